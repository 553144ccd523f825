//! What nocall prints. Text from pages, mail and files can carry control characters and
//! escape sequences (set the window title, clear the screen, plant a hyperlink); they are
//! removed before anything reaches a terminal. A closed standard output or error
//! (`nocall run … | head`) ends the printing quietly instead of panicking.
//!
//! The binary uses this module's `print!`/`println!`/`eprint!`/`eprintln!` in place of the
//! standard ones, so nothing it prints can skip the cleaning.

use std::borrow::Cow;
use std::io::Write;

/// `text` without escape sequences (CSI `ESC[…`, OSC `ESC]…BEL`, and the rest) and without
/// control characters other than newline and tab.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates, then one final byte in @..~.
                Some('[') => {
                    for n in chars.by_ref() {
                        if ('@'..='~').contains(&n) {
                            break;
                        }
                    }
                }
                // OSC, DCS, SOS, PM, APC: up to BEL or ESC \.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(n) = chars.next() {
                        if n == '\u{7}' {
                            break;
                        }
                        if n == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            // C1 CSI and OSC introducers.
            '\u{9b}' => {
                for n in chars.by_ref() {
                    if ('@'..='~').contains(&n) {
                        break;
                    }
                }
            }
            c if unsafe_char(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        // Bidirectional overrides reorder what follows them on screen.
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Writes cleaned text to standard output; a closed pipe is not an error worth a panic.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(clean(text).as_bytes());
    let _ = stdout.flush();
}

/// Writes cleaned text to standard error, as [`out`].
pub fn err(text: &str) {
    let _ = std::io::stderr().lock().write_all(clean(text).as_bytes());
}

/// `print!` through [`out`].
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::terminal::out(&format!($($arg)*)) };
}

/// `println!` through [`out`].
#[macro_export]
macro_rules! println {
    () => { $crate::terminal::out("\n") };
    ($($arg:tt)*) => { $crate::terminal::out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` through [`err`].
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::terminal::err(&format!($($arg)*)) };
}

/// `eprintln!` through [`err`].
#[macro_export]
macro_rules! eprintln {
    () => { $crate::terminal::err("\n") };
    ($($arg:tt)*) => { $crate::terminal::err(&format!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_are_removed_text_is_kept() {
        assert_eq!(
            clean("Hi\u{1b}]0;pwned\u{7} there\u{1b}[2J\u{1b}[1;31mred\u{1b}[0m"),
            "Hi therered"
        );
        assert_eq!(
            clean("\u{1b}]8;;http://evil.test\u{1b}\\click\u{1b}]8;;\u{1b}\\ me"),
            "click me"
        );
        assert_eq!(clean("a\u{8}b\rc\u{0}d\u{9b}31me"), "abcde");
        assert_eq!(clean("safe\u{202e}txt.exe"), "safetxt.exe");
        assert!(matches!(
            clean("Plain text,\n\ttabbed — ünïcode"),
            Cow::Borrowed(_)
        ));
    }
}
