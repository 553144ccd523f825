//! YAML with positions, and the diagnostics that point into it: the ground both loaders
//! (scenario files and `nocall.yaml`) stand on.
//!
//! Parsing uses saphyr's span-carrying [`MarkedYaml`] with early scalar parsing turned off,
//! so every scalar keeps the text the user wrote (`007` stays `007`, `yes` stays `yes`) and
//! each loader decides what a scalar means where it sits. Problems are collected in
//! [`Problems`] rather than returned one by one, so a user sees every mistake in one go.
//! This module knows nothing of scenarios or settings.

use std::path::{Path, PathBuf};

use saphyr::{MarkedYaml, ScalarStyle, ScanError, YamlData, YamlLoader};
use saphyr_parser::{Parser, Span};

use crate::diagnostic::{Diagnostic, suggest};

/// A parsed node with its place in the source.
pub(crate) type Node<'a> = MarkedYaml<'a>;

/// The problems found in one file so far, each pointing into its source.
pub(crate) struct Problems<'s> {
    file: PathBuf,
    source: &'s str,
    /// Byte offset of every character, so a character index from a span can slice `source`.
    char_starts: Vec<usize>,
    list: Vec<Diagnostic>,
}

impl<'s> Problems<'s> {
    pub(crate) fn new(file: &Path, source: &'s str) -> Self {
        Problems {
            file: file.to_path_buf(),
            source,
            char_starts: source.char_indices().map(|(i, _)| i).collect(),
            list: Vec::new(),
        }
    }

    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// A problem with the file as a whole (line 0).
    pub(crate) fn whole_file(&mut self, message: impl Into<String>, help: Option<String>) {
        let mut d = Diagnostic::new(&self.file, 0, 0, message);
        d.help = help;
        self.list.push(d);
    }

    /// A problem at a 1-based line and column, underlining `width` characters.
    pub(crate) fn at_position(
        &mut self,
        line: usize,
        column: usize,
        width: usize,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let mut d =
            Diagnostic::new(&self.file, line, column, message).with_source(self.source, width);
        d.help = help;
        self.list.push(d);
    }

    /// A problem with a node, underlining it (up to the end of its first line).
    pub(crate) fn at(&mut self, node: &Node<'_>, message: impl Into<String>, help: Option<String>) {
        self.at_span(&node.span, message, help);
    }

    pub(crate) fn at_span(
        &mut self,
        span: &Span,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let (line, column) = position(span);
        let width = self.width(span);
        self.at_position(line, column, width, message, help);
    }

    /// A problem `offset` characters into a scalar's text (a `{` in a value, the kind in a
    /// model key). The column is exact when the scalar sits on one line as written (plain, or
    /// quoted without escapes); otherwise the whole scalar is pointed at.
    pub(crate) fn inside(
        &mut self,
        node: &Node<'_>,
        offset: usize,
        width: usize,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        match self.text_start(node) {
            Some(first) => {
                let (line, column) = position(&node.span);
                self.at_position(line, column + first + offset, width, message, help);
            }
            None => self.at(node, message, help),
        }
    }

    /// How far into the written form of `node` its text starts (1 for a quoted scalar),
    /// when the written form is its text verbatim on one line.
    fn text_start(&self, node: &Node<'_>) -> Option<usize> {
        let YamlData::Representation(text, style, _) = &node.data else {
            return None;
        };
        if node.span.start.line() != node.span.end.line() {
            return None;
        }
        let written = self.slice(&node.span)?;
        let quote = match style {
            ScalarStyle::Plain => 0,
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => 1,
            _ => return None,
        };
        let inner: String = written
            .chars()
            .skip(quote)
            .take(written.chars().count().saturating_sub(2 * quote))
            .collect();
        (inner == *text).then_some(quote)
    }

    /// The source text a span covers.
    fn slice(&self, span: &Span) -> Option<&'s str> {
        let start = *self.char_starts.get(span.start.index())?;
        let end = self
            .char_starts
            .get(span.end.index())
            .copied()
            .unwrap_or(self.source.len());
        self.source.get(start..end)
    }

    /// Characters to underline: the span, cut at the end of its first line.
    fn width(&self, span: &Span) -> usize {
        let text = self.slice(span).unwrap_or("");
        let first_line = text.lines().next().unwrap_or("");
        first_line.trim_end().chars().count().max(1)
    }

    /// An unknown key, with the closest known one suggested.
    /// Returns the suggestion, so a caller can keep quiet about the key being missing.
    pub(crate) fn unknown_key<'k>(
        &mut self,
        key: &Node<'_>,
        name: &str,
        what: &str,
        known: &[&'k str],
    ) -> Option<&'k str> {
        let close = suggest(name, known.iter().copied());
        let help = match close {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("the keys {what} accepts are: {}", backticked(known)),
        };
        self.at(key, format!("unknown key `{name}` {what}"), Some(help));
        close
    }

    /// The diagnostics, in the order they appear in the file.
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        self.list.sort_by_key(|d| (d.line, d.column));
        self.list
    }
}

/// `a`, `b`, `c` — for lists of accepted words in help texts.
pub(crate) fn backticked(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// 1-based line and column of a span's start (saphyr's columns are 0-based).
pub(crate) fn position(span: &Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

/// Parses one YAML document. `Ok(None)` is an empty file (nothing but comments or blanks);
/// syntax errors and a second document are reported into `problems`.
pub(crate) fn parse<'a>(
    source: &'a str,
    problems: &mut Problems<'_>,
) -> Result<Option<Node<'a>>, ()> {
    let mut loader = YamlLoader::<MarkedYaml>::default();
    // Keep scalars as written: the loaders decide what is text and what is a number.
    loader.early_parse(false);
    let mut parser = Parser::new_from_str(source);
    let result = parser.load(&mut loader, true);
    let error = match result {
        Err(e) => Some(e),
        Ok(()) => loader.error().cloned(),
    };
    if let Some(e) = error {
        syntax_error(&e, problems);
        return Err(());
    }
    let mut docs = loader.into_documents().into_iter();
    let first = docs.next();
    if let Some(second) = docs.next() {
        problems.at(
            &second,
            "a second YAML document (after `---`) in the same file",
            Some("keep one journey per file: move this one into a file of its own".to_string()),
        );
        return Err(());
    }
    Ok(first.filter(|d| !is_null(d)))
}

/// A syntax error from the parser, with a fix for the mistakes people make most.
fn syntax_error(e: &ScanError, problems: &mut Problems<'_>) {
    let mark = e.marker();
    let info = e.info();
    let line = mark.line().max(1);
    let mut column = mark.col() + 1;
    let source_line = problems.source.lines().nth(line - 1).unwrap_or("");
    // The scanner stops just past a tab it cannot take; point at the tab itself.
    let tab = source_line
        .chars()
        .take(column)
        .enumerate()
        .filter(|(_, c)| *c == '\t')
        .last()
        .map(|(i, _)| i + 1)
        .filter(|t| column - t <= 1);
    if let Some(t) = tab {
        column = t;
    }
    let mut width = 1;
    let (message, help) = if info.contains("duplicated key") {
        let key = problems
            .source
            .lines()
            .nth(line - 1)
            .map(|l| l.chars().skip(mark.col()).collect::<String>())
            .and_then(|rest| {
                rest.split(':')
                    .next()
                    .map(|k| k.trim().trim_matches(['"', '\'']).to_string())
            })
            .unwrap_or_default();
        width = key.chars().count();
        (
            format!("duplicate key `{key}`: it is already given above in the same map"),
            "each key may appear once in a map; remove or rename one of them".to_string(),
        )
    } else if tab.is_some() || info.contains("tab") {
        (
            format!("invalid YAML: {info}"),
            "YAML does not allow tabs for indentation or after `:`; use spaces".to_string(),
        )
    } else if info.contains("mapping values are not allowed") {
        (
            format!("invalid YAML: {info}"),
            "a value containing `: ` must be quoted, e.g. `click: \"Step 2: Verify\"`; or check the indentation of this line"
                .to_string(),
        )
    } else if info.contains("did not find expected key")
        || info.contains("did not find expected '-'")
    {
        (
            format!("invalid YAML: {info}"),
            "check the indentation: keys of one map line up, and a step's fields sit under it"
                .to_string(),
        )
    } else if info.contains("unknown anchor") {
        (
            format!("invalid YAML: {info}"),
            "an alias `*name` needs an anchor `&name` above it; quote values that start with `*`"
                .to_string(),
        )
    } else if info.contains("found character that cannot start any token") {
        (
            format!("invalid YAML: {info}"),
            "quote values that start with `@`, `` ` ``, `%`, `|` or `>`".to_string(),
        )
    } else {
        (
            format!("invalid YAML: {info}"),
            "check the quoting and indentation here; quote values that contain `: `, ` #`, or start with `{`, `[`, `*` or `&`"
                .to_string(),
        )
    };
    problems.at_position(line, column, width, message, Some(help));
}

/// Whether a node is YAML's null: nothing, `~`, or `null`, unquoted.
pub(crate) fn is_null(node: &Node<'_>) -> bool {
    match &node.data {
        YamlData::Representation(text, ScalarStyle::Plain, _) => {
            matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL")
        }
        YamlData::BadValue => true,
        YamlData::Tagged(_, inner) => is_null(inner),
        _ => false,
    }
}

/// A scalar's text as written (quotes and escapes resolved), or `None` for null and
/// collections.
pub(crate) fn scalar(node: &Node<'_>) -> Option<String> {
    if is_null(node) {
        return None;
    }
    match &node.data {
        YamlData::Representation(text, _, _) => Some(text.to_string()),
        YamlData::Tagged(_, inner) => scalar(inner),
        _ => None,
    }
}

/// What a node is, for "expected …, found …" messages.
pub(crate) fn found(node: &Node<'_>) -> String {
    if is_null(node) {
        return "nothing".to_string();
    }
    match &node.data {
        YamlData::Representation(text, _, _) => format!("`{text}`"),
        YamlData::Sequence(_) => "a list".to_string(),
        YamlData::Mapping(_) => "a map".to_string(),
        YamlData::Tagged(_, inner) => found(inner),
        _ => "an unreadable value".to_string(),
    }
}

/// A flow map whose keys have no values, such as `{Leader PIN}`: what an unquoted value in
/// braces parses as. Returns the text the user meant.
pub(crate) fn unquoted_braces(node: &Node<'_>) -> Option<String> {
    let YamlData::Mapping(map) = &node.data else {
        return None;
    };
    if map.is_empty() || !map.values().all(is_null) {
        return None;
    }
    let names: Option<Vec<String>> = map.keys().map(scalar).collect();
    names.map(|n| format!("{{{}}}", n.join(", ")))
}

/// Help for a value that should have been text.
pub(crate) fn text_help(node: &Node<'_>) -> Option<String> {
    if let Some(meant) = unquoted_braces(node) {
        return Some(format!(
            "a value starting with `{{` is read by YAML as a map; put it in quotes: \"{meant}\""
        ));
    }
    None
}

/// Text from a scalar, or a problem saying what was expected there. Numbers are text as
/// written (`Owner Number: 5550100`).
pub(crate) fn text(node: &Node<'_>, what: &str, problems: &mut Problems<'_>) -> Option<String> {
    match scalar(node) {
        Some(t) => Some(t),
        None => {
            problems.at(
                node,
                format!("expected {what}, found {}", found(node)),
                text_help(node),
            );
            None
        }
    }
}

/// Like [`text`], but empty text is refused too.
pub(crate) fn nonempty_text(
    node: &Node<'_>,
    what: &str,
    problems: &mut Problems<'_>,
) -> Option<String> {
    let t = text(node, what, problems)?;
    if t.trim().is_empty() {
        problems.at(node, format!("expected {what}, found empty text"), None);
        return None;
    }
    Some(t)
}

/// A number from a scalar (quoted or not), with `min`/`max` bounds and whether `min` itself
/// is allowed.
pub(crate) fn number(
    node: &Node<'_>,
    what: &str,
    range: NumberRange,
    problems: &mut Problems<'_>,
) -> Option<f64> {
    let parsed = scalar(node)
        .and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite());
    match parsed {
        Some(n) if range.contains(n) => Some(n),
        Some(n) => {
            problems.at(
                node,
                format!("expected {what} {}, found {n}", range.describe()),
                None,
            );
            None
        }
        None => {
            let help = scalar(node)
                .and_then(|t| {
                    let digits: String = t
                        .chars()
                        .filter(|c| c.is_ascii_digit() || *c == '.')
                        .collect();
                    digits.parse::<f64>().ok().map(|_| digits)
                })
                .map(|d| format!("write a plain number, e.g. `{d}`"));
            problems.at(
                node,
                format!(
                    "expected {what} {}, found {}",
                    range.describe(),
                    found(node)
                ),
                help,
            );
            None
        }
    }
}

/// The numbers a setting accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NumberRange {
    /// `0` or more.
    NonNegative,
    /// More than `0`.
    Positive,
    /// `0` to `1`, both included.
    Fraction,
}

impl NumberRange {
    fn contains(self, n: f64) -> bool {
        match self {
            NumberRange::NonNegative => n >= 0.0,
            NumberRange::Positive => n > 0.0,
            NumberRange::Fraction => (0.0..=1.0).contains(&n),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            NumberRange::NonNegative => "(a number, 0 or more)",
            NumberRange::Positive => "(a number above 0)",
            NumberRange::Fraction => "(a number from 0 to 1)",
        }
    }
}

/// The entries of a map as `(key text, key node, value node)`, in file order. Keys that
/// are not text, and keys given twice, are reported and left out. `None` (reported) when
/// the node is not a map.
pub(crate) fn entries<'n, 'a>(
    node: &'n Node<'a>,
    what: &str,
    help: Option<String>,
    problems: &mut Problems<'_>,
) -> Option<Vec<(String, &'n Node<'a>, &'n Node<'a>)>> {
    let map = match &node.data {
        YamlData::Mapping(map) => map,
        YamlData::Tagged(_, inner) => return entries(inner, what, help, problems),
        _ => {
            problems.at(
                node,
                format!("expected {what}, found {}", found(node)),
                help,
            );
            return None;
        }
    };
    let mut out: Vec<(String, &Node<'a>, &Node<'a>)> = Vec::new();
    for (key, value) in map {
        let Some(name) = scalar(key) else {
            problems.at(
                key,
                format!("expected a name as the key here, found {}", found(key)),
                None,
            );
            continue;
        };
        // The parser refuses exact repeats; this catches the same key written with other quotes.
        if out.iter().any(|(n, _, _)| *n == name) {
            problems.at(
                key,
                format!("duplicate key `{name}`: it is already given above in the same map"),
                Some("each key may appear once in a map; remove or rename one of them".to_string()),
            );
            continue;
        }
        out.push((name, key, value));
    }
    Some(out)
}

/// The items of a list; `None` (reported) when the node is not a list.
pub(crate) fn items<'n, 'a>(
    node: &'n Node<'a>,
    what: &str,
    help: Option<String>,
    problems: &mut Problems<'_>,
) -> Option<&'n [Node<'a>]> {
    match &node.data {
        YamlData::Sequence(items) => Some(items),
        YamlData::Tagged(_, inner) => items(inner, what, help, problems),
        _ => {
            problems.at(
                node,
                format!("expected {what}, found {}", found(node)),
                help,
            );
            None
        }
    }
}

/// A list of text items (`tags`, `allowed_hosts`, a synonym group).
pub(crate) fn text_list(
    node: &Node<'_>,
    what: &str,
    problems: &mut Problems<'_>,
) -> Option<Vec<String>> {
    let help = scalar(node).map(|t| format!("write a list, e.g. `[{t}]`"));
    let list = items(node, &format!("{what} (a list of text)"), help, problems)?;
    let mut out = Vec::new();
    let mut ok = true;
    for item in list {
        match nonempty_text(item, "text", problems) {
            Some(t) => out.push(t),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(source: &str) -> (Option<Node<'_>>, Vec<Diagnostic>) {
        let mut p = Problems::new(Path::new("t.yaml"), source);
        let node = parse(source, &mut p).ok().flatten();
        (node, p.finish())
    }

    #[test]
    fn keeps_scalars_as_written() {
        let (node, problems) = parsed("a: 007\nb: '5'\nc: yes\n");
        assert!(problems.is_empty());
        let node = node.unwrap();
        let mut p = Problems::new(Path::new("t.yaml"), "");
        let got: Vec<_> = entries(&node, "a map", None, &mut p)
            .unwrap()
            .into_iter()
            .map(|(k, _, v)| (k, scalar(v).unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("a".into(), "007".into()),
                ("b".into(), "5".into()),
                ("c".into(), "yes".into())
            ]
        );
    }

    #[test]
    fn empty_and_comment_only_files_are_none() {
        assert!(parsed("").0.is_none());
        assert!(parsed("# nothing\n\n").0.is_none());
    }

    #[test]
    fn syntax_errors_point_at_line_and_column_with_help() {
        let (_, problems) = parsed("name: x\nsteps:\n  - click: Step 2: Verify\n");
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].line, problems[0].column), (3, 18));
        assert!(problems[0].help.as_deref().unwrap().contains("quoted"));
    }

    #[test]
    fn duplicate_keys_are_named() {
        let (_, problems) = parsed("name: a\nstart: x\nname: b\n");
        assert_eq!((problems[0].line, problems[0].column), (3, 1));
        assert!(
            problems[0].message.contains("duplicate key `name`"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn a_second_document_is_refused() {
        let (_, problems) = parsed("name: a\n---\nname: b\n");
        assert_eq!(problems[0].line, 3);
        assert!(problems[0].message.contains("second YAML document"));
    }

    #[test]
    fn points_inside_a_plain_or_quoted_scalar() {
        let source = "a: x{y\nb: \"x{y\"\n";
        let (node, _) = parsed(source);
        let node = node.unwrap();
        let mut p = Problems::new(Path::new("t.yaml"), source);
        let list = entries(
            &node,
            "a map",
            None,
            &mut Problems::new(Path::new("t.yaml"), source),
        )
        .unwrap();
        for (_, _, v) in &list {
            p.inside(v, 1, 1, "here", None);
        }
        let got: Vec<_> = p.finish().iter().map(|d| (d.line, d.column)).collect();
        assert_eq!(got, [(1, 5), (2, 6)]);
    }

    #[test]
    fn unquoted_braces_are_recognised() {
        let (node, _) = parsed("a: {Leader PIN}\n");
        let node = node.unwrap();
        let mut p = Problems::new(Path::new("t.yaml"), "");
        let list = entries(&node, "a map", None, &mut p).unwrap();
        assert_eq!(unquoted_braces(list[0].2).as_deref(), Some("{Leader PIN}"));
    }

    #[test]
    fn numbers_respect_their_range() {
        let source = "a: 1.5\nb: -1\nc: 400/month\n";
        let (node, _) = parsed(source);
        let node = node.unwrap();
        let mut p = Problems::new(Path::new("t.yaml"), source);
        let list = entries(
            &node,
            "a map",
            None,
            &mut Problems::new(Path::new("t.yaml"), source),
        )
        .unwrap();
        assert_eq!(
            number(list[0].2, "x", NumberRange::Positive, &mut p),
            Some(1.5)
        );
        assert_eq!(
            number(list[1].2, "x", NumberRange::NonNegative, &mut p),
            None
        );
        assert_eq!(
            number(list[2].2, "x", NumberRange::NonNegative, &mut p),
            None
        );
        let d = p.finish();
        assert!(
            d[1].help.as_deref().unwrap().contains("`400`"),
            "{:?}",
            d[1]
        );
    }
}
