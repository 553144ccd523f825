//! An error that points into a file a user wrote: `file:line:column`, what was expected,
//! and a suggestion when one is close.
//!
//! Shared by the scenario and `nocall.yaml` loaders so both read the same way.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is the file as a whole (unreadable, empty).
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
    /// A fix: "did you mean `click`?", "quote the value", ….
    pub help: Option<String>,
    /// The offending line of the file, for the caret display.
    pub source_line: Option<String>,
    /// How many characters the caret underlines (at least 1).
    pub width: usize,
}

impl Diagnostic {
    pub fn new(
        file: impl Into<PathBuf>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            column,
            message: message.into(),
            help: None,
            source_line: None,
            width: 1,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Attaches the source line from the file's text and the span width to underline.
    pub(crate) fn with_source(mut self, source: &str, width: usize) -> Self {
        if self.line > 0 {
            self.source_line = source.lines().nth(self.line - 1).map(str::to_string);
        }
        self.width = width.max(1);
        self
    }

    /// `file:line:column`, the part editors and CI logs link on.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.location(),
            clipped(&self.message, 0, MESSAGE).0
        )?;
        if let Some(src) = &self.source_line {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            // A huge line (a minified export, a wrong file) is shown as a window around
            // the column, never whole.
            let (shown, shift) = clipped(src, self.column.saturating_sub(1), WINDOW);
            let indent = " ".repeat(self.column.saturating_sub(1).saturating_sub(shift));
            write!(
                f,
                "\n{pad} |\n{num} | {shown}\n{pad} | {indent}{}",
                "^".repeat(self.width.min(WINDOW))
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Characters of a source line shown around the column.
const WINDOW: usize = 100;
/// Characters of a message (which may quote what the file holds).
const MESSAGE: usize = 400;

/// At most `width` characters of `text` around character `at`, with `…` where it was cut,
/// and how many columns the start moved (so the caret still points at `at`).
fn clipped(text: &str, at: usize, width: usize) -> (std::borrow::Cow<'_, str>, usize) {
    let long = text.chars().nth(width).is_some();
    if !long {
        return (std::borrow::Cow::Borrowed(text), 0);
    }
    let start = at.saturating_sub(width / 3);
    let mut shown: String = text.chars().skip(start).take(width).collect();
    let more = text.chars().nth(start + width).is_some();
    if more {
        shown.push('…');
    }
    if start > 0 {
        // The "…" before takes one column and the cut text `start` columns.
        return (
            std::borrow::Cow::Owned(format!("…{shown}")),
            start.saturating_sub(1),
        );
    }
    (std::borrow::Cow::Owned(shown), 0)
}

/// The closest candidate to `word` when it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| {
            *d <= (c.chars().count() / 3).max(1)
                || c.to_lowercase().starts_with(&lower) && lower.len() >= 3
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_line_is_shown_as_a_window_with_the_caret_in_place() {
        let line = format!("{}BAD{}", "a".repeat(50_000), "b".repeat(50_000));
        let d = Diagnostic::new("s.yaml", 1, 50_001, "x".repeat(5_000)).with_source(&line, 3);
        let text = d.to_string();
        assert!(text.len() < 1_200, "{} bytes", text.len());
        let lines: Vec<&str> = text.lines().collect();
        let src = lines[2];
        let caret = lines[3];
        let bad = src.find("BAD").expect("the column is shown");
        let mark = caret.find('^').expect("a caret");
        // Both lines start with the same gutter; the caret sits under the B (chars, not bytes).
        assert_eq!(
            src[..bad].chars().count(),
            caret[..mark].chars().count(),
            "{text}"
        );
    }

    #[test]
    fn renders_location_caret_and_help() {
        let src = "name: x\nsteps:\n  - clik: Log in\n";
        let d = Diagnostic::new("s.yaml", 3, 5, "unknown step `clik`")
            .help("did you mean `click`?")
            .with_source(src, 4);
        let text = d.to_string();
        assert!(
            text.starts_with("s.yaml:3:5: unknown step `clik`"),
            "{text}"
        );
        assert!(
            text.contains("3 |   - clik: Log in\n  |     ^^^^"),
            "{text}"
        );
        assert!(text.ends_with("= help: did you mean `click`?"), "{text}");
    }

    #[test]
    fn suggests_close_words_only() {
        let steps = ["open", "fill", "choose", "click", "expect", "email", "wait"];
        assert_eq!(suggest("clik", steps), Some("click"));
        assert_eq!(suggest("expct", steps), Some("expect"));
        assert_eq!(suggest("navigate", steps), None);
    }
}
