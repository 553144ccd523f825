//! `--report FORMAT=PATH`: which report files a run writes, read from the command line.
//!
//! Only parses and checks the specs (known format, a path given); writing the files is the
//! caller's, after the run.

use std::path::{Path, PathBuf};

use super::{FILE_FORMATS, Format, format_in};

/// One report file asked for: its format and where it goes.
pub struct ReportFile {
    pub format: Box<dyn Format>,
    pub path: PathBuf,
}

/// Every `FORMAT=PATH` spec, in order; the first bad one is the error, said for the user.
/// `out_dir` is the run's output folder (the HTML report links its screenshots from there).
pub fn parse_all(specs: &[String], out_dir: &Path) -> Result<Vec<ReportFile>, String> {
    specs.iter().map(|s| parse(s, out_dir)).collect()
}

fn parse(spec: &str, out_dir: &Path) -> Result<ReportFile, String> {
    let (name, path) = spec.split_once('=').ok_or_else(|| {
        format!("--report wants FORMAT=PATH (such as json=out/nocall.json); got {spec:?}")
    })?;
    let format = format_in(name, out_dir)
        .filter(|_| FILE_FORMATS.contains(&name))
        .ok_or_else(|| {
            format!(
                "unknown report format {name:?}; the formats are {}",
                FILE_FORMATS.join(", ")
            )
        })?;
    if path.is_empty() {
        return Err(format!("--report {name}= needs a path"));
    }
    Ok(ReportFile {
        format,
        path: PathBuf::from(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_a_file_format_and_a_path() {
        let out = Path::new("nocall-out");
        let files = parse_all(&["json=a.json".into(), "html=r/a.html".into()], out)
            .unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(&str, &Path)> = files
            .iter()
            .map(|f| (f.format.name(), f.path.as_path()))
            .collect();
        assert_eq!(
            got,
            [
                ("json", Path::new("a.json")),
                ("html", Path::new("r/a.html"))
            ]
        );
        for bad in ["json", "table=t.txt", "yaml=x", "json="] {
            assert!(parse_all(&[bad.into()], out).is_err(), "{bad}");
        }
    }
}
