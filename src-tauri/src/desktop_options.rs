//! The desktop app's command line and start-up environment. Kept apart from the Tauri
//! shell ([`crate::desktop`]) so that it builds, and its tests run, without the `desktop`
//! feature.

use std::path::PathBuf;

/// A wrong command line, with what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Options {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--help`.
    pub help: bool,
    /// `--version`.
    pub version: bool,
}

/// The app's `--help`.
pub(crate) const USAGE: &str = "\
AlignScope desktop app: multi-modal entity alignment workbench

Usage: alignscope-desktop [--data-dir DIR]

Options:
      --data-dir DIR  The data directory [default: $ALIGNSCOPE_HOME, else the platform's data folder]
  -h, --help          Print help
  -V, --version       Print version

Environment:
  ALIGNSCOPE_HOME        The data directory, unless --data-dir is given
  ALIGNSCOPE_DEMO_LIMIT  Build the demo from the first N emoji only (a quick, small demo)";

/// Reads the arguments. Unknown flags are ignored, not refused: WebKitWebDriver starts the
/// app with `--automation`, and desktop launchers may pass their own.
pub(crate) fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, UsageError> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => options.help = true,
            "-V" | "--version" => options.version = true,
            "--data-dir" => match args.next() {
                Some(dir) if !dir.is_empty() => options.data_dir = Some(dir.into()),
                _ => return Err(UsageError("--data-dir needs a folder".into())),
            },
            other => {
                if let Some(dir) = other.strip_prefix("--data-dir=") {
                    options.data_dir = Some(dir.into());
                }
            }
        }
    }
    Ok(options)
}

/// WebKitGTK reports a `C`/`POSIX` locale (the default in containers and CI) as
/// `navigator.language == "C"`, which is no BCP 47 language tag: `Intl` constructors throw
/// on it (uPlot makes an `Intl.NumberFormat` as it loads, so the UI would not start).
/// Where the messages locale is C or unset, the window gets English instead.
#[cfg_attr(not(feature = "desktop"), allow(dead_code))]
pub(crate) fn give_webkit_a_language() {
    let effective = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .into_iter()
        .find_map(|name| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.is_empty())
                .map(|value| (name, value))
        });
    let name = match effective {
        None => "LANG",
        Some((name, value)) if is_c_locale(&value) => name,
        Some(_) => return,
    };
    // SAFETY: the caller runs this while the process has one thread (first thing in the
    // desktop app's `run`).
    unsafe { std::env::set_var(name, "en_US.UTF-8") };
}

/// Whether a locale name is the C locale (`C`, `C.UTF-8`, `POSIX`).
fn is_c_locale(value: &str) -> bool {
    let base = value.split(['.', '@']).next().unwrap_or_default();
    base == "C" || base == "POSIX"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Options {
        parse_args(args.iter().map(|a| a.to_string())).unwrap()
    }

    #[test]
    fn data_dir_in_both_spellings_and_unknown_flags_ignored() {
        assert_eq!(parse(&[]), Options::default());
        assert_eq!(parse(&["--data-dir", "/x"]).data_dir, Some("/x".into()));
        assert_eq!(parse(&["--data-dir=/y"]).data_dir, Some("/y".into()));
        assert_eq!(
            parse(&["--automation", "--data-dir", "/z"]).data_dir,
            Some("/z".into())
        );
        assert!(parse(&["--help"]).help);
        assert!(parse(&["-V"]).version);
    }

    #[test]
    fn usage_names_every_option_and_variable() {
        for name in [
            "--data-dir",
            "--help",
            "--version",
            "ALIGNSCOPE_HOME",
            "ALIGNSCOPE_DEMO_LIMIT",
        ] {
            assert!(USAGE.contains(name), "{name} is missing from the usage");
        }
    }

    #[test]
    fn c_locales_are_recognised() {
        for c in ["C", "C.UTF-8", "C.utf8", "POSIX"] {
            assert!(is_c_locale(c), "{c}");
        }
        for other in ["en_US.UTF-8", "zh_CN.UTF-8", "de_DE@euro", "Catalan"] {
            assert!(!is_c_locale(other), "{other}");
        }
    }

    #[test]
    fn data_dir_without_a_folder_is_a_usage_error() {
        let error = parse_args(["--data-dir".to_string()]).unwrap_err();
        assert_eq!(error.to_string(), "--data-dir needs a folder");
    }
}
