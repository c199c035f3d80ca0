//! Line-oriented text files: reading with UTF-8 checks, tab-separated records and id
//! parsing, each failure reported with file and line.

use std::path::{Path, PathBuf};

use crate::file::{FileKind, read_or_report};
use crate::problem::{Diagnostics, Location, ProblemKind, WarningKind, quote};

/// A text file read whole (at most [`crate::MAX_TEXT_FILE_BYTES`]) and checked to be UTF-8.
pub(crate) struct TextFile {
    /// Path as reported in messages.
    pub path: PathBuf,
    content: String,
}

/// Reads `path` as UTF-8 text. A missing file is reported as [`ProblemKind::MissingFile`]
/// with `what` saying what the file should hold; other failures likewise.
pub(crate) fn read_required(path: &Path, what: &str, diag: &mut Diagnostics) -> Option<TextFile> {
    let bytes = read_or_report(path, FileKind::Text, Some(what), diag)?;
    decode(path, bytes, diag)
}

/// Reads `path` if it exists; `None` without a problem when it does not.
pub(crate) fn read_optional(path: &Path, diag: &mut Diagnostics) -> Option<TextFile> {
    let bytes = read_or_report(path, FileKind::Text, None, diag)?;
    decode(path, bytes, diag)
}

fn decode(path: &Path, bytes: Vec<u8>, diag: &mut Diagnostics) -> Option<TextFile> {
    match String::from_utf8(bytes) {
        Ok(mut content) => {
            if content.starts_with('\u{feff}') {
                content.drain(..'\u{feff}'.len_utf8());
            }
            Some(TextFile {
                path: path.to_path_buf(),
                content,
            })
        }
        Err(e) => {
            let bytes = e.as_bytes();
            let bad = e.utf8_error().valid_up_to();
            let line = 1 + bytes[..bad].iter().filter(|&&b| b == b'\n').count();
            let line_start = bytes[..bad]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            diag.error_at(
                path,
                line,
                ProblemKind::NotUtf8 {
                    column: bad - line_start + 1,
                },
            );
            None
        }
    }
}

impl TextFile {
    /// The whole text.
    pub fn content(&self) -> &str {
        &self.content
    }

    /// The first line without its line ending.
    pub fn first_line(&self) -> &str {
        let line = self.content.split('\n').next().unwrap_or("");
        line.strip_suffix('\r').unwrap_or(line)
    }

    /// Calls `each(line_number, fields)` for every non-blank line, fields split on tabs.
    /// A trailing `\r` is dropped; blank lines are counted as a warning.
    pub fn for_each_record<'a>(
        &'a self,
        diag: &mut Diagnostics,
        mut each: impl FnMut(&mut Diagnostics, usize, &[&'a str]),
    ) {
        let mut fields: Vec<&'a str> = Vec::with_capacity(8);
        let mut blank = 0usize;
        let mut first_blank = 0usize;
        // A final newline ends the last line; it does not start a blank one.
        let body = self.content.strip_suffix('\n').unwrap_or(&self.content);
        if body.is_empty() {
            return;
        }
        for (index, raw) in body.split('\n').enumerate() {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.trim().is_empty() {
                blank += 1;
                if first_blank == 0 {
                    first_blank = index + 1;
                }
                continue;
            }
            fields.clear();
            fields.extend(line.split('\t'));
            each(diag, index + 1, &fields);
        }
        if blank > 0 {
            diag.warn_many(
                WarningKind::BlankLines,
                blank,
                Location::line(&self.path, first_blank),
            );
        }
    }
}

/// Checks a record's column count against `expected` (exact).
pub(crate) fn check_columns<T>(
    diag: &mut Diagnostics,
    path: &Path,
    line: usize,
    fields: &[T],
    expected: usize,
    layout: &'static str,
) -> bool {
    if fields.len() == expected {
        return true;
    }
    diag.error_at(
        path,
        line,
        ProblemKind::ColumnCount {
            expected: expected.to_string(),
            layout,
            found: fields.len(),
        },
    );
    false
}

/// Parses a non-negative integer id (surrounding spaces allowed).
pub(crate) fn parse_id(field: &str, column: usize, name: &'static str) -> Result<u64, ProblemKind> {
    let trimmed = field.trim_matches(' ');
    if !trimmed.is_empty()
        && trimmed.bytes().all(|b| b.is_ascii_digit())
        && let Ok(id) = trimmed.parse::<u64>()
    {
        return Ok(id);
    }
    Err(ProblemKind::NotAnInteger {
        column,
        name,
        value: quote(field),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(content: &str) -> (Vec<(usize, Vec<String>)>, Diagnostics) {
        let file = TextFile {
            path: PathBuf::from("f"),
            content: content.to_string(),
        };
        let mut diag = Diagnostics::default();
        let mut out = Vec::new();
        file.for_each_record(&mut diag, |_, line, fields| {
            out.push((line, fields.iter().map(|s| s.to_string()).collect()));
        });
        (out, diag)
    }

    #[test]
    fn records_keep_line_numbers_and_count_blank_lines() {
        let (recs, diag) = records("a\tb\r\n\n  \nc\n");
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0], (1, vec!["a".to_string(), "b".to_string()]));
        assert_eq!(recs[1].0, 4);
        let warnings = diag.finish().unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].count, 2);
        assert_eq!(warnings[0].first, "f:2");
    }

    #[test]
    fn final_newline_is_not_a_blank_line() {
        let (recs, diag) = records("a\nb\n");
        assert_eq!(recs.len(), 2);
        assert!(diag.finish().unwrap().is_empty());
        let (recs, diag) = records("a\nb");
        assert_eq!(recs.len(), 2);
        assert!(diag.finish().unwrap().is_empty());
    }

    #[test]
    fn ids_are_strict_whole_numbers() {
        assert_eq!(parse_id("42", 1, "id"), Ok(42));
        assert_eq!(parse_id(" 7 ", 1, "id"), Ok(7));
        for bad in ["", "-1", "+3", "1.0", "1e3", "x", "99999999999999999999999"] {
            assert!(parse_id(bad, 1, "id").is_err(), "{bad}");
        }
    }
}
