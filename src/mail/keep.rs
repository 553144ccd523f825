//! How much mail a source keeps: at most `limits.mails_per_run` messages and
//! `limits.mail_mib_per_run` of them in memory, so a portal (or anyone on the network)
//! flooding the listener with huge messages costs bounded memory. Beyond that the oldest
//! messages no journey has taken are dropped, and a message larger than the per-message
//! limit is refused before it is kept. What was dropped or refused is counted here and
//! said once per source ([`Kept::sentence`]), as a warning in the report.
//!
//! Pure bookkeeping: it never reads a socket or a file.

use crate::limits::human_bytes;
use crate::trace::Mail;

/// The larger messages are refused whatever the run's budget: no portal mail is this big.
pub(crate) const MAX_MESSAGE_BYTES: u64 = 25 << 20;

/// What one mail source keeps in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    /// Messages kept at once.
    pub messages: usize,
    /// Bytes of kept messages (their parsed text, addresses and links).
    pub bytes: u64,
}

impl Default for MailLimits {
    fn default() -> Self {
        let l = crate::config::Limits::default();
        MailLimits::of(&l)
    }
}

impl MailLimits {
    /// The limits `nocall.yaml` sets.
    pub fn of(limits: &crate::config::Limits) -> MailLimits {
        MailLimits {
            messages: limits.mails_per_run.max(1),
            bytes: limits.mail_bytes_per_run.max(1),
        }
    }

    /// The largest one message may be: [`MAX_MESSAGE_BYTES`], or the whole budget when
    /// that is smaller (a message that could never be kept is not read).
    pub(crate) fn per_message(&self) -> u64 {
        MAX_MESSAGE_BYTES.min(self.bytes)
    }
}

/// What a message costs in memory once parsed.
pub(crate) fn size_of(mail: &Mail) -> u64 {
    let strings = mail.from.len()
        + mail.subject.len()
        + mail.text.len()
        + mail.to.iter().map(String::len).sum::<usize>()
        + mail
            .links
            .iter()
            .map(|l| l.text.len() + l.href.len())
            .sum::<usize>();
    u64::try_from(strings).unwrap_or(u64::MAX)
}

/// Which of the held messages (oldest first: their size, and whether a journey took it)
/// to drop so that the rest fit `limits`: the oldest untaken ones first, then the oldest
/// taken ones (a journey's trace has its own copy); never the newest.
pub(crate) fn to_drop(held: &[(u64, bool)], limits: &MailLimits) -> Vec<usize> {
    let mut count = held.len();
    let mut bytes: u64 = held.iter().map(|(b, _)| *b).sum();
    let over = |count: usize, bytes: u64| count > limits.messages || bytes > limits.bytes;
    let mut out = Vec::new();
    let newest = held.len().saturating_sub(1);
    'drop: for taken_too in [false, true] {
        for (i, (size, taken)) in held.iter().enumerate() {
            if !over(count, bytes) {
                break 'drop;
            }
            if i == newest || *taken != taken_too {
                continue;
            }
            out.push(i);
            count -= 1;
            bytes = bytes.saturating_sub(*size);
        }
    }
    out.sort_unstable();
    out
}

/// What a source dropped and refused so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Kept {
    pub dropped: usize,
    pub dropped_bytes: u64,
    /// Messages refused (or skipped unread) for being larger than the per-message limit.
    pub refused: usize,
    /// Messages the SMTP listener asked to be sent again later (452) while the messages
    /// being received at once filled the budget.
    pub deferred: usize,
}

impl Kept {
    /// One sentence about what was cut, naming the setting that raises the limit; `None`
    /// when nothing was.
    pub(crate) fn sentence(&self, limits: &MailLimits, source: &str) -> Option<String> {
        let mut parts = Vec::new();
        if self.dropped > 0 {
            parts.push(format!(
                "dropped the {} oldest messages ({}) to keep at most {} messages and {} \
                 (`limits.mails_per_run`, `limits.mail_mib_per_run` in nocall.yaml)",
                self.dropped,
                rounded(self.dropped_bytes),
                limits.messages,
                human_bytes(limits.bytes)
            ));
        }
        if self.refused > 0 {
            parts.push(format!(
                "refused {} {} larger than {} unread",
                self.refused,
                if self.refused == 1 {
                    "message"
                } else {
                    "messages"
                },
                human_bytes(limits.per_message())
            ));
        }
        if self.deferred > 0 {
            parts.push(format!(
                "deferred {} (452, to be sent again) while the messages being received at once \
                 filled {}",
                self.deferred,
                human_bytes(limits.bytes)
            ));
        }
        (!parts.is_empty()).then(|| format!("{source}: nocall {}", parts.join("; and ")))
    }
}

/// "23.1 MB": a size in words, for a total that is rarely a whole number of MiB.
fn rounded(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else {
        human_bytes(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(messages: usize, bytes: u64) -> MailLimits {
        MailLimits { messages, bytes }
    }

    #[test]
    fn the_oldest_untaken_go_first_and_the_newest_stays() {
        let held = [(10, false), (10, true), (10, false), (10, false)];
        assert_eq!(to_drop(&held, &limits(2, 1000)), vec![0, 2]);
        // Over by bytes: untaken first, then taken, never the newest.
        assert_eq!(to_drop(&held, &limits(10, 15)), vec![0, 1, 2]);
        assert!(to_drop(&held, &limits(4, 40)).is_empty());
        assert!(to_drop(&[(100, false)], &limits(1, 10)).is_empty());
    }

    #[test]
    fn the_sentence_says_what_was_cut_and_how_to_raise_it() {
        let l = limits(200, 64 << 20);
        assert_eq!(Kept::default().sentence(&l, "SMTP x"), None);
        let s = Kept {
            dropped: 3,
            dropped_bytes: 70 << 20,
            refused: 1,
            deferred: 0,
        }
        .sentence(&l, "SMTP 127.0.0.1:2525")
        .unwrap_or_default();
        assert!(
            s.starts_with("SMTP 127.0.0.1:2525: nocall dropped the 3 oldest"),
            "{s}"
        );
        assert!(
            s.contains("70.0 MiB") && s.contains("64 MiB") && s.contains("mails_per_run"),
            "{s}"
        );
        assert!(s.contains("refused 1 message larger than 25 MiB"), "{s}");
        assert_eq!(l.per_message(), 25 << 20);
        assert_eq!(limits(5, 1 << 20).per_message(), 1 << 20);
    }
}
