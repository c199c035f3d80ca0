//! The Tauri 2 desktop shell (`alignscope-desktop`, cargo feature `desktop`).
//!
//! Nothing here decides anything: the window's one command, `api_call`, forwards an
//! [`ApiCall`](crate::api::ApiCall) to [`Api::call`]; every job event is forwarded to the
//! window as the event `job-event`; entity images are served by the `alignscope` URI
//! scheme (`alignscope://localhost/api/image?dataset=…&side=…&key=…&index=…`), which
//! resolves the file through the API, never through a path sent by the page.
//!
//! This is the only module that uses `tauri`: the headless `alignscope` binary never links
//! WebKit. What the window may call is granted in `capabilities/default.json` and the
//! content security policy is in `tauri.conf.json`.

mod image;

use std::path::PathBuf;
use std::process::ExitCode;

use tauri::{Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;

use crate::api::{Api, ApiCall, ApiError};
use crate::data_dir::DataDir;
use crate::jobs::JobEvent;

/// The window event that carries one [`JobEvent`].
pub const JOB_EVENT: &str = "job-event";

/// The URI scheme that serves entity images to the window.
pub const IMAGE_SCHEME: &str = "alignscope";

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// The data directory or the database could not be opened.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The window or the webview failed.
    #[error("the desktop window failed: {0}")]
    Tauri(#[from] tauri::Error),
}

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    data_dir: Option<PathBuf>,
    help: bool,
    version: bool,
}

const USAGE: &str = "\
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
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, DesktopError> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => options.help = true,
            "-V" | "--version" => options.version = true,
            "--data-dir" => match args.next() {
                Some(dir) if !dir.is_empty() => options.data_dir = Some(dir.into()),
                _ => return Err(DesktopError::Usage("--data-dir needs a folder".into())),
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

/// The binary's entry point: opens the data directory, starts the API and the demo's
/// background build, and runs the window until it is closed.
pub fn main() -> ExitCode {
    match run(std::env::args().skip(1)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(DesktopError::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(crate::cli::EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(crate::cli::EXIT_INVALID_INPUT)
        }
    }
}

fn run(args: impl IntoIterator<Item = String>) -> Result<(), DesktopError> {
    let options = parse_args(args)?;
    // Before any thread starts (the runtime below): changing the environment is only
    // sound while the process is single-threaded.
    give_webkit_a_language();
    if options.help {
        println!("{USAGE}");
        return Ok(());
    }
    if options.version {
        println!("alignscope-desktop {}", crate::code_version());
        return Ok(());
    }

    // One multi-threaded runtime for the API, the job runner and Tauri's async commands.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tauri::async_runtime::set(runtime.handle().clone());
    let api = runtime.block_on(async {
        let dir = DataDir::resolve(options.data_dir.as_deref()).map_err(ApiError::from)?;
        let api = Api::open(dir).await?;
        // The same start-up as `alignscope serve`: register the demo, or start building
        // it in the background (`$ALIGNSCOPE_DEMO_LIMIT` picks a small cut; the window
        // follows it through `demo_status`).
        // A demo that cannot be built does not keep the app from opening.
        match api.start_demo_in_background(None).await {
            Ok(status) => {
                if let Some(message) = status.message {
                    eprintln!("note: {message}");
                }
            }
            Err(e) => eprintln!("note: the demo dataset could not be checked: {e}"),
        }
        Ok::<_, DesktopError>(api)
    })?;

    let app = tauri::Builder::default()
        .manage(api.clone())
        .invoke_handler(tauri::generate_handler![api_call])
        .register_asynchronous_uri_scheme_protocol(IMAGE_SCHEME, |context, request, responder| {
            let api = context.app_handle().state::<Api>().inner().clone();
            tauri::async_runtime::spawn(async move {
                responder.respond(image::respond(&api, request.uri()).await);
            });
        })
        .setup(|app| {
            forward_job_events(app.handle().clone());
            Ok(())
        })
        .build(tauri::tauri_build_context!())?;
    app.run(|_, _| {});
    runtime.block_on(api.close());
    Ok(())
}

/// WebKitGTK reports a `C`/`POSIX` locale (the default in containers and CI) as
/// `navigator.language == "C"`, which is no BCP 47 language tag: `Intl` constructors throw
/// on it (uPlot makes an `Intl.NumberFormat` as it loads, so the UI would not start).
/// Where the messages locale is C or unset, the window gets English instead.
fn give_webkit_a_language() {
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
    // SAFETY: called first thing in `run`, while the process has one thread.
    unsafe { std::env::set_var(name, "en_US.UTF-8") };
}

/// Whether a locale name is the C locale (`C`, `C.UTF-8`, `POSIX`).
fn is_c_locale(value: &str) -> bool {
    let base = value.split(['.', '@']).next().unwrap_or_default();
    base == "C" || base == "POSIX"
}

/// The window's one command: a call of the backend API. The argument is read here rather
/// than by Tauri so that a malformed call rejects with the same `invalid_input`
/// [`ApiError`] as the HTTP server's `POST /api/call`.
#[tauri::command]
async fn api_call(
    api: tauri::State<'_, Api>,
    call: serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    api.call(ApiCall::from_json(call)?).await
}

/// Sends every job event to the window as `job-event`, for as long as the app runs.
fn forward_job_events(app: tauri::AppHandle) {
    let mut events = app.state::<Api>().subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => emit(&app, &event),
                // The window fell behind: the skipped events are progress it can do
                // without (every state change is in the store, and the next event or a
                // reload shows it).
                Err(RecvError::Lagged(skipped)) => {
                    eprintln!("alignscope-desktop: the window missed {skipped} job events");
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn emit(app: &tauri::AppHandle, event: &JobEvent) {
    if let Err(e) = app.emit(JOB_EVENT, event) {
        eprintln!("alignscope-desktop: cannot send a job event to the window: {e}");
    }
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
        assert!(matches!(error, DesktopError::Usage(_)), "{error}");
    }
}
