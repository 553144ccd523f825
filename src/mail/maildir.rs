//! A maildir folder as a mail source: for portals whose test setup delivers mail to a local
//! mailer (Postfix, a Django file backend pointed at a maildir, …) rather than to an SMTP
//! server nocall could run.
//!
//! Messages are the files in `new/` and `cur/` (never `tmp/`, where a mailer writes a
//! message before it is complete). A file's modification time is when it arrived. The
//! folder is read again every [`POLL`] while a journey waits: a short poll works on every
//! file system (network mounts and container volumes included, where change notification
//! often does not), and a message is parsed only once, when first seen.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::keep::{Kept, MailLimits};
use super::{MailSource, deadline, matches, parse};
use crate::trace::Mail;

/// How often the folder is read while waiting.
pub(super) const POLL: Duration = Duration::from_millis(100);

/// A maildir folder, read on demand.
pub struct MaildirSource {
    root: PathBuf,
    opened: SystemTime,
    seen: Mutex<BTreeMap<PathBuf, Seen>>,
    /// Messages already handed out (by file name, before the `:2,` flags a mailer adds when
    /// it moves a file to cur/), by the `since` (journey) and recipient they were handed
    /// out for.
    taken: Mutex<HashMap<(Instant, String), HashSet<String>>>,
    limits: MailLimits,
    /// Messages of this run (arrived since the folder was opened) left unread: too large,
    /// or beyond the limits as the newest messages came.
    skipped: Mutex<Skipped>,
}

#[derive(Default)]
struct Skipped {
    too_large: HashSet<String>,
    /// By message name, with its size.
    beyond: HashMap<String, u64>,
}

struct Seen {
    modified: SystemTime,
    len: u64,
    mail: Mail,
    problems: Vec<String>,
}

impl MaildirSource {
    /// Opens the folder `path` (the one holding `new/` and `cur/`). The error names the
    /// folder: a mistyped path would otherwise only show as mail that never comes.
    pub fn open(path: &Path) -> std::io::Result<MaildirSource> {
        MaildirSource::open_with(path, MailLimits::default())
    }

    /// [`Self::open`], reading at most what `limits` allows: the newest messages first.
    pub fn open_with(path: &Path, limits: MailLimits) -> std::io::Result<MaildirSource> {
        let meta = fs::metadata(path).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot read the maildir {}: {e}", path.display()),
            )
        })?;
        if !meta.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("the maildir {} is a file, not a folder", path.display()),
            ));
        }
        Ok(MaildirSource {
            root: path.to_path_buf(),
            opened: SystemTime::now(),
            seen: Mutex::new(BTreeMap::new()),
            taken: Mutex::new(HashMap::new()),
            limits,
            skipped: Mutex::new(Skipped::default()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Every message now in the folder with its arrival time, oldest first.
    fn scan(&self) -> Vec<(SystemTime, Mail)> {
        self.scan_named()
            .into_iter()
            .map(|(at, _, m)| (at, m))
            .collect()
    }

    /// [`Self::scan`], with each message's name (its file name up to the `:2,` flags).
    /// Only the newest messages that fit the limits are read (by their file sizes); a
    /// file larger than one message may be is never opened.
    fn scan_named(&self) -> Vec<(SystemTime, String, Mail)> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut present = BTreeMap::new();
        let mut files: Vec<(SystemTime, PathBuf, u64)> = Vec::new();
        let mut skipped = Skipped::default();
        for sub in ["new", "cur"] {
            let Ok(entries) = fs::read_dir(self.root.join(sub)) else {
                // A mailer creates them on first delivery.
                continue;
            };
            for entry in entries.flatten() {
                // Dot files are the mailer's own (and editors' swap files), not messages.
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                let Ok(meta) = entry.metadata() else { continue };
                if !meta.is_file() {
                    continue;
                }
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                let path = entry.path();
                if meta.len() > self.limits.per_message() {
                    if arrived_since(modified, self.opened) {
                        skipped.too_large.insert(message_name(&path));
                    }
                    continue;
                }
                files.push((modified, path, meta.len()));
            }
        }
        // Newest first (then by name, so equal times read the same every time).
        files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let mut bytes = 0u64;
        for (index, (modified, path, len)) in files.into_iter().enumerate() {
            bytes = bytes.saturating_add(len);
            if index >= self.limits.messages || bytes > self.limits.bytes {
                if arrived_since(modified, self.opened) {
                    skipped.beyond.insert(message_name(&path), len);
                }
                continue;
            }
            let entry = match seen.remove(&path) {
                Some(s) if s.modified == modified && s.len == len => s,
                _ => match read(&path, self.limits.per_message()) {
                    Some(raw) => {
                        let parsed = parse::parse_checked(&raw, 0);
                        Seen {
                            modified,
                            len,
                            mail: parsed.mail,
                            problems: parsed.problems,
                        }
                    }
                    None => continue,
                },
            };
            present.insert(path, entry);
        }
        // Kept for the whole run: a message read once and later pushed out still counts.
        let mut all = self.skipped.lock().unwrap_or_else(PoisonError::into_inner);
        all.too_large.extend(skipped.too_large);
        all.beyond.extend(skipped.beyond);
        drop(all);
        // Files gone since the last read (a mailer moving new/ to cur/) are forgotten.
        *seen = present;
        let mut out: Vec<(SystemTime, String, Mail)> = seen
            .iter()
            .map(|(path, s)| (s.modified, message_name(path), s.mail.clone()))
            .collect();
        out.sort_by_key(|(at, _, _)| *at);
        out
    }
}

impl MailSource for MaildirSource {
    /// Reads the folder every `POLL` until a message matches.
    fn wait_for_after(
        &self,
        to: &str,
        subject: Option<&str>,
        since: Instant,
        after: Instant,
        within: Duration,
    ) -> Option<Mail> {
        let end = deadline(within);
        // File times are wall-clock times; `since` and `after` are not.
        let wall = |t: Instant| {
            SystemTime::now()
                .checked_sub(t.elapsed())
                .unwrap_or(SystemTime::UNIX_EPOCH)
        };
        let since_wall = wall(since);
        let after_wall = wall(after.max(since));
        loop {
            let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
            let used = taken
                .entry((since, parse::bare_address(to).to_lowercase()))
                .or_default();
            let found = self
                .scan_named()
                .into_iter()
                .filter(|(at, name, m)| {
                    !used.contains(name)
                        && arrived_since(*at, after_wall)
                        && matches(m, to, subject)
                })
                .max_by_key(|(at, _, _)| *at);
            if let Some((at, name, mut mail)) = found {
                used.insert(name);
                mail.received_ms = wall_millis(since_wall, at);
                return Some(mail);
            }
            drop(taken);
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            std::thread::sleep(left.min(POLL));
        }
    }

    fn messages(&self) -> Vec<Mail> {
        self.scan()
            .into_iter()
            .map(|(at, mail)| Mail {
                received_ms: wall_millis(self.opened, at),
                ..mail
            })
            .collect()
    }

    fn arrived_since(&self, since: Instant) -> Vec<Mail> {
        let since_wall = SystemTime::now()
            .checked_sub(since.elapsed())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        self.scan()
            .into_iter()
            .filter(|(at, _)| arrived_since(*at, since_wall))
            .map(|(at, mail)| Mail {
                received_ms: wall_millis(since_wall, at),
                ..mail
            })
            .collect()
    }

    fn describe(&self) -> String {
        format!("maildir {}", self.root.display())
    }

    fn cut(&self) -> Option<String> {
        let skipped = self.skipped.lock().unwrap_or_else(PoisonError::into_inner);
        Kept {
            dropped: skipped.beyond.len(),
            dropped_bytes: skipped.beyond.values().sum(),
            refused: skipped.too_large.len(),
            deferred: 0,
        }
        .sentence(&self.limits, &self.describe())
    }

    /// Files in the folder that could not be read or parsed cleanly.
    fn problems(&self) -> Vec<String> {
        self.scan();
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.iter()
            .flat_map(|(path, s)| {
                s.problems
                    .iter()
                    .map(move |p| format!("{}: {p}", path.display()))
            })
            .collect()
    }
}

/// The file, when it is no larger than `limit` (it may have grown since it was listed).
fn read(path: &Path, limit: u64) -> Option<Vec<u8>> {
    crate::limits::read_bytes(path, limit).ok().flatten()
}

/// A message's name in the folder: its file name without the flags (`:2,S`) a mail reader
/// adds when it moves the file from new/ to cur/.
fn message_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.split_once(":2,") {
        Some((base, _)) => base.to_string(),
        None => name,
    }
}

/// Did a file modified at `at` arrive at or after `since`? A file system that keeps whole
/// seconds only (its times have no fraction) is compared in whole seconds, so a message
/// written in the same second as `since` still counts.
fn arrived_since(at: SystemTime, since: SystemTime) -> bool {
    let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let at_d = secs(at);
    if at_d.subsec_nanos() == 0 {
        at_d.as_secs() >= secs(since).as_secs()
    } else {
        at >= since
    }
}

fn wall_millis(from: SystemTime, to: SystemTime) -> u64 {
    to.duration_since(from)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_second_times_compare_by_the_second() {
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let since = base + Duration::from_millis(400);
        assert!(
            arrived_since(base, since),
            "same second on a coarse file system"
        );
        assert!(!arrived_since(base - Duration::from_secs(1), since));
        assert!(!arrived_since(base + Duration::from_millis(300), since));
        assert!(arrived_since(base + Duration::from_millis(500), since));
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_it() {
        let Err(e) = MaildirSource::open(Path::new("/nonexistent/nocall-maildir")) else {
            panic!("opened a folder that does not exist");
        };
        assert!(e.to_string().contains("/nonexistent/nocall-maildir"), "{e}");
    }
}
