//! The phone directory support keeps: a CSV of `number,status,hours`.
//!
//! It is the only place nocall learns that a line is dead or when it is staffed: no library
//! can tell whether a number is in service. Numbers are matched on E.164, so support may
//! write them as they like (`+1 415 555 2671`, `(415) 555-2671`). A malformed file is
//! refused with `file:line:column`, like a scenario; this module never touches the network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::find::{read_number, region_for};
use crate::diagnostic::Diagnostic;

/// Whether a listed line is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineState {
    Live,
    Disconnected,
}

impl LineState {
    pub fn as_str(self) -> &'static str {
        match self {
            LineState::Live => "live",
            LineState::Disconnected => "disconnected",
        }
    }
}

/// One row of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// As support wrote it.
    pub number: String,
    pub e164: String,
    pub status: LineState,
    /// When the line is staffed, in support's words (`Mon–Fri 8:00–20:00 ET`, `24/7`);
    /// empty when the file does not say.
    #[serde(default)]
    pub hours: String,
    /// 1-based line in the file.
    pub line: usize,
}

/// The directory, by E.164.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    pub file: PathBuf,
    pub entries: BTreeMap<String, DirectoryEntry>,
}

const COLUMNS: [&str; 3] = ["number", "status", "hours"];
const STATUSES: [&str; 2] = ["live", "disconnected"];

impl Directory {
    /// Reads and checks the file. `region` reads numbers written without a country code.
    pub fn load(path: &Path, region: Option<&str>) -> Result<Directory, Vec<Diagnostic>> {
        match crate::limits::read_text(path) {
            Ok(source) => Directory::parse(&source, path, region),
            Err(e) => {
                Err(
                    vec![Diagnostic::new(
                path,
                0,
                0,
                format!("cannot read the phone directory: {e}"),
            )
            .help("`phones.directory` in nocall.yaml names a CSV of `number,status,hours`")],
                )
            }
        }
    }

    /// Parses the CSV text of `file`; every problem is returned, not just the first.
    pub fn parse(
        source: &str,
        file: &Path,
        region: Option<&str>,
    ) -> Result<Directory, Vec<Diagnostic>> {
        let region = region_for(region, "");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(source.as_bytes());
        let mut problems = Vec::new();
        let mut entries: BTreeMap<String, DirectoryEntry> = BTreeMap::new();
        // Column positions; a header row may reorder them.
        let mut at = [0usize, 1, 2];
        let mut first = true;
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    problems.push(
                        Diagnostic::new(file, line, 1, format!("not valid CSV: {e}"))
                            .with_source(source, 1),
                    );
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line() as usize);
            let cell = |i: usize| record.get(i).unwrap_or_default();
            let names = |name: &str| record.iter().any(|h| h.eq_ignore_ascii_case(name));
            if std::mem::take(&mut first) && names("number") && names("status") {
                for (k, name) in COLUMNS.iter().enumerate() {
                    // `hours` may be left out; `number` and `status` are there (see above).
                    at[k] = record
                        .iter()
                        .position(|h| h.eq_ignore_ascii_case(name))
                        .unwrap_or(usize::MAX);
                }
                for h in record.iter() {
                    if !COLUMNS.iter().any(|c| h.eq_ignore_ascii_case(c)) {
                        let col = column_of(source, line, h);
                        let mut d =
                            Diagnostic::new(file, line, col, format!("unknown column `{h}`"));
                        if let Some(s) = suggest(h, &COLUMNS) {
                            d = d.help(format!("did you mean `{s}`?"));
                        }
                        problems.push(d.with_source(source, h.chars().count()));
                    }
                }
                continue;
            }
            if record.iter().all(str::is_empty) {
                continue;
            }
            let number = cell(at[0]);
            let status = cell(at[1]);
            let hours = cell(at[2]);
            let e164 = match read_directory_number(number, &region) {
                Ok(e) => Some(e),
                Err(why) => {
                    let col = column_of(source, line, number);
                    problems.push(
                        Diagnostic::new(file, line, col, why)
                            .help(format!(
                                "write numbers in international form (`+14155550100`); others are read in region {region}"
                            ))
                            .with_source(source, number.chars().count()),
                    );
                    None
                }
            };
            let state = match status.to_ascii_lowercase().as_str() {
                "live" => Some(LineState::Live),
                "disconnected" => Some(LineState::Disconnected),
                other => {
                    let col = column_of(source, line, status);
                    let message = if other.is_empty() {
                        "missing status: expected `live` or `disconnected`".to_string()
                    } else {
                        format!("unknown status `{status}`: expected `live` or `disconnected`")
                    };
                    let mut d = Diagnostic::new(file, line, col, message);
                    if let Some(s) = suggest(other, &STATUSES) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    problems.push(d.with_source(source, status.chars().count()));
                    None
                }
            };
            let (Some(e164), Some(status)) = (e164, state) else {
                continue;
            };
            if let Some(earlier) = entries.get(&e164) {
                let col = column_of(source, line, number);
                problems.push(
                    Diagnostic::new(
                        file,
                        line,
                        col,
                        format!("{number} ({e164}) is listed twice"),
                    )
                    .help(format!(
                        "it is also on line {}; keep one row per number",
                        earlier.line
                    ))
                    .with_source(source, number.chars().count()),
                );
                continue;
            }
            entries.insert(
                e164.clone(),
                DirectoryEntry {
                    number: number.to_string(),
                    e164,
                    status,
                    hours: hours.to_string(),
                    line,
                },
            );
        }
        if problems.is_empty() {
            Ok(Directory {
                file: file.to_path_buf(),
                entries,
            })
        } else {
            Err(problems)
        }
    }

    pub fn get(&self, e164: &str) -> Option<&DirectoryEntry> {
        self.entries.get(e164)
    }

    /// "support-phones.csv, line 3", for messages.
    pub fn cite(&self, entry: &DirectoryEntry) -> String {
        let name = self.file.file_name().map_or_else(
            || self.file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!("{name}, line {}", entry.line)
    }
}

/// A directory number's E.164 form. Support's list is the truth about its lines, so a
/// number is accepted whether or not the metadata knows its range (test lines often use
/// fiction numbers); only text that cannot be a number is refused.
fn read_directory_number(number: &str, region: &str) -> Result<String, String> {
    if number.is_empty() {
        return Err("missing number".to_string());
    }
    if let Some(bad) = number
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || " +-.()/\u{a0}".contains(*c)))
    {
        return Err(format!(
            "`{number}` is not a phone number: it contains `{bad}`"
        ));
    }
    let digits = number.chars().filter(char::is_ascii_alphanumeric).count();
    if digits < 7 {
        return Err(format!("`{number}` is too short to be a phone number"));
    }
    let reading = read_number(number, region);
    if reading.e164.len() > 16 {
        return Err(format!("`{number}` is too long to be a phone number"));
    }
    Ok(reading.e164)
}

/// 1-based column of `cell` on `line` of the source, 1 when it cannot be found.
fn column_of(source: &str, line: usize, cell: &str) -> usize {
    let Some(text) = line.checked_sub(1).and_then(|l| source.lines().nth(l)) else {
        return 1;
    };
    if cell.is_empty() {
        return text.chars().count().max(1);
    }
    text.find(cell)
        .and_then(|b| text.get(..b))
        .map_or(1, |before| before.chars().count() + 1)
}

fn suggest<'a>(word: &str, choices: &[&'a str]) -> Option<&'a str> {
    choices
        .iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word.to_ascii_lowercase(), c),
                *c,
            )
        })
        .filter(|&(d, c)| d > 0 && d <= c.len() / 2)
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Directory, Vec<Diagnostic>> {
        Directory::parse(src, Path::new("phones.csv"), Some("US"))
    }

    #[test]
    fn entries_are_keyed_by_e164_whatever_the_writing() {
        let d = parse(
            "number,status,hours\n\
             +14155552671,disconnected,\n\
             (800) 555-0199,live,Mon-Fri 08:00-20:00 ET\n\
             \"+44 20 7946 0000\", LIVE , 24/7\n",
        )
        .unwrap();
        assert_eq!(d.entries.len(), 3);
        let dead = d.get("+14155552671").unwrap();
        assert_eq!(dead.status, LineState::Disconnected);
        assert_eq!(dead.line, 2);
        let live = d.get("+18005550199").unwrap();
        assert_eq!(live.hours, "Mon-Fri 08:00-20:00 ET");
        assert_eq!(d.cite(live), "phones.csv, line 3");
        assert_eq!(d.get("+442079460000").unwrap().hours, "24/7");
    }

    #[test]
    fn header_is_optional_and_may_reorder_columns() {
        let d = parse("+18005550199,live\n").unwrap();
        assert_eq!(d.get("+18005550199").unwrap().hours, "");
        let d = parse("status,number\ndisconnected,+14155552671\n").unwrap();
        assert_eq!(
            d.get("+14155552671").unwrap().status,
            LineState::Disconnected
        );
        let d = parse("Number,Hours,Status\n+18005550199,24/7,live\n").unwrap();
        assert_eq!(d.get("+18005550199").unwrap().hours, "24/7");
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let d = parse("# support lines\nnumber,status,hours\n\n+18005550199,live,\n").unwrap();
        assert_eq!(d.entries.len(), 1);
    }

    #[test]
    fn problems_point_at_line_and_column() {
        let errs = parse(
            "number,status,hours\n\
             +18005550199,dead,\n\
             call-us,live,\n\
             +18005550199,live,\n\
             123,live,\n\
             +14155552671,disconected,\n",
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(errs.len(), 4, "{text:#?}");
        assert_eq!((errs[0].line, errs[0].column), (2, 14));
        assert!(errs[0].message.contains("unknown status `dead`"));
        assert_eq!((errs[1].line, errs[1].column), (3, 1));
        assert!(errs[1].message.contains("contains `-`") || errs[1].message.contains("too short"));
        assert_eq!(errs[2].line, 5);
        assert!(errs[2].message.contains("too short"));
        assert_eq!(errs[3].line, 6);
        assert_eq!(
            errs[3].help.as_deref(),
            Some("did you mean `disconnected`?")
        );
        assert!(text[3].contains("^^^^"), "{}", text[3]);
    }

    #[test]
    fn a_number_listed_twice_is_refused() {
        let errs = parse("+18005550199,live,\n1-800-555-0199,disconnected,\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("listed twice"));
        assert!(
            errs[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("line 1"))
        );
    }

    #[test]
    fn unknown_columns_are_named() {
        let errs = parse("number,status,hour\n+18005550199,live,9-5\n").unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.help.as_deref() == Some("did you mean `hours`?"))
        );
    }

    #[test]
    fn unreadable_file_is_a_diagnostic() {
        let errs = Directory::load(Path::new("/nonexistent/phones.csv"), None).unwrap_err();
        assert_eq!(errs[0].line, 0);
        assert!(errs[0].message.contains("cannot read the phone directory"));
    }
}
