//! Every file nocall writes: inside its output folder by checked names, never through a
//! symlink, and always whole (written to a temporary file beside it, then renamed).
//!
//! A report can be edited by hand and a folder can hold planted links, so a name that
//! comes from a report (a finding id, a trace path) is checked here, not trusted; a folder
//! on the way that is a symlink is refused; and the final rename replaces a symlink at the
//! target rather than writing through it. This module never decides what to write, and it
//! never follows a link it did not get from the user's own `--out`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why a file was not written.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("--out {} is a file, not a folder; give a folder (it is created when missing)", .0.display())]
    NotAFolder(PathBuf),
    #[error("{} is a symlink; nocall does not write through it", .0.display())]
    Symlink(PathBuf),
    #[error("\"{0}\" is not a name nocall writes (letters, digits, `.`, `_`, `-`)")]
    BadName(String),
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FilesError + '_ {
    move |source| FilesError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks an output folder before any work starts: a missing one is created, an existing
/// path that is not a folder is refused.
pub fn prepare(out: &Path) -> Result<(), FilesError> {
    match std::fs::metadata(out) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(FilesError::NotAFolder(out.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(out).map_err(io(out))
        }
        Err(e) => Err(FilesError::Io {
            path: out.to_path_buf(),
            source: e,
        }),
    }
}

/// Removes what an earlier run wrote in the output folder, so a report never sits beside
/// the traces and screenshots of another run: `report.json`, `traces/NN-name.json` and
/// `screenshots/NN-name/step-NN.png`, then those folders if that left them empty. Nothing
/// else is touched (a user's own files, a report written there with `--report`, which the
/// run writes anew), and no symlink is followed or removed. Returns how many files went.
pub fn clear_previous(out: &Path) -> Result<usize, FilesError> {
    let real_dir = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
    let real_file = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file());
    let journey = |n: &str| {
        n.split_once('-').is_some_and(|(num, rest)| {
            num.len() >= 2 && num.bytes().all(|b| b.is_ascii_digit()) && plain(rest)
        })
    };
    let mut removed = 0;
    let mut remove = |p: &Path| -> Result<(), FilesError> {
        std::fs::remove_file(p).map_err(io(p))?;
        removed += 1;
        Ok(())
    };
    if !real_dir(out) {
        return Ok(0);
    }
    let report = out.join("report.json");
    if real_file(&report) {
        remove(&report)?;
    }
    let names = |dir: &Path| -> Vec<(String, PathBuf)> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let traces = out.join("traces");
    if real_dir(&traces) {
        for (name, path) in names(&traces) {
            if name.strip_suffix(".json").is_some_and(journey) && real_file(&path) {
                remove(&path)?;
            }
        }
        let _ = std::fs::remove_dir(&traces); // only when empty
    }
    let shots = out.join("screenshots");
    if real_dir(&shots) {
        for (name, dir) in names(&shots) {
            if !journey(&name) || !real_dir(&dir) {
                continue;
            }
            for (file, path) in names(&dir) {
                let step = file
                    .strip_prefix("step-")
                    .and_then(|f| f.strip_suffix(".png"))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                if step && real_file(&path) {
                    remove(&path)?;
                }
            }
            let _ = std::fs::remove_dir(&dir);
        }
        let _ = std::fs::remove_dir(&shots);
    }
    Ok(removed)
}

/// One part of a path nocall writes under its output folder.
fn plain(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 120
        && !part.starts_with('.')
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Writes `bytes` to `rel` (plain names joined by `/`) under `out`, creating folders on
/// the way and refusing any that is a symlink or a file. Returns the path written.
pub fn write_inside(out: &Path, rel: &str, bytes: &[u8]) -> Result<PathBuf, FilesError> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts.iter().any(|p| !plain(p)) {
        return Err(FilesError::BadName(rel.to_string()));
    }
    prepare(out)?;
    let mut dir = out.to_path_buf();
    let (name, folders) = parts
        .split_last()
        .ok_or_else(|| FilesError::BadName(rel.to_string()))?;
    for f in folders {
        dir.push(f);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => return Err(FilesError::Symlink(dir)),
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(FilesError::NotAFolder(dir)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&dir).map_err(io(&dir))?;
            }
            Err(e) => {
                return Err(FilesError::Io {
                    path: dir,
                    source: e,
                });
            }
        }
    }
    let path = dir.join(name);
    replace(&path, bytes)?;
    Ok(path)
}

/// Writes `bytes` to `path` (a path the user named, or one [`write_inside`] checked):
/// creates its folder, writes a temporary file beside it and renames it over `path`. A
/// symlink at `path` is replaced, not followed.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<(), FilesError> {
    let parent = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(FilesError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other("it is a folder"),
        });
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".nocall-")
        .tempfile_in(&parent)
        .map_err(io(&parent))?;
    tmp.write_all(bytes).map_err(io(path))?;
    tmp.persist(path).map_err(|e| FilesError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_a_run_writes_is_cleared() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path();
        for rel in [
            "report.json",
            "traces/01-first-login.json",
            "traces/12-reset.json",
            "screenshots/01-first-login/step-01.png",
            "screenshots/01-first-login/step-12.png",
        ] {
            write_inside(out, rel, b"old").expect("writes");
        }
        // The user's own files stay, in nocall's folders too.
        const MINE: [&str; 5] = [
            "notes.txt",
            "nocall.xml",
            "traces/mine.json",
            "screenshots/01-first-login/diagram.png",
            "screenshots/keep/step-01.png",
        ];
        for rel in MINE {
            write_inside(out, rel, b"mine").expect("writes");
        }
        assert_eq!(clear_previous(out).expect("clears"), 5);
        assert!(!out.join("report.json").exists());
        assert!(!out.join("traces/01-first-login.json").exists());
        assert!(!out.join("screenshots/01-first-login/step-01.png").exists());
        for rel in MINE {
            assert!(out.join(rel).exists(), "{rel}");
        }
        // A symlinked folder is neither followed nor removed.
        #[cfg(unix)]
        {
            let elsewhere = tempfile::tempdir().expect("tempdir");
            write_inside(elsewhere.path(), "01-x.json", b"keep").expect("writes");
            let other = tempfile::tempdir().expect("tempdir");
            std::os::unix::fs::symlink(elsewhere.path(), other.path().join("traces")).unwrap();
            assert_eq!(clear_previous(other.path()).expect("clears"), 0);
            assert!(elsewhere.path().join("01-x.json").exists());
        }
        // Empty folders left behind go; a missing output folder is nothing to clear.
        let fresh = tempfile::tempdir().expect("tempdir");
        write_inside(fresh.path(), "traces/01-a.json", b"x").expect("writes");
        assert_eq!(clear_previous(fresh.path()).expect("clears"), 1);
        assert!(!fresh.path().join("traces").exists());
        assert_eq!(
            clear_previous(&fresh.path().join("none")).expect("clears"),
            0
        );
    }

    #[test]
    fn names_are_checked_and_symlinks_are_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        assert!(matches!(
            write_inside(&out, "../../x", b"no"),
            Err(FilesError::BadName(_))
        ));
        assert!(matches!(
            write_inside(&out, "/etc/x", b"no"),
            Err(FilesError::BadName(_))
        ));
        write_inside(&out, "traces/a.json", b"ok").expect("writes");
        assert_eq!(std::fs::read(out.join("traces/a.json")).unwrap(), b"ok");
        // A planted symlink at the file is replaced; its target is untouched.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&victim, out.join("report.json")).unwrap();
            write_inside(&out, "report.json", b"new").expect("writes");
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
            assert!(
                !std::fs::symlink_metadata(out.join("report.json"))
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            // A symlinked folder on the way is refused.
            std::os::unix::fs::symlink(dir.path(), out.join("shots")).unwrap();
            assert!(matches!(
                write_inside(&out, "shots/x.png", b"no"),
                Err(FilesError::Symlink(_))
            ));
        }
        assert!(matches!(prepare(&victim), Err(FilesError::NotAFolder(_))));
    }
}
