//! Values in scenarios: `{Hold Name}`, `{env:NAME}`, `{unknown}`, `{unique}`, `{{` and `}}`.
//!
//! A value is parsed into pieces, then resolved against the holds defined so far and the
//! environment. A hold may use the environment and holds defined *above* it in the file
//! (never below: the file reads top to bottom, and this rules out cycles). Anything built
//! from `{env:…}` is secret, directly or through a hold, and its text is added to the
//! run's [`Secrets`]. Errors carry a character offset into the value so the loader can
//! point at the brace that is wrong. No I/O here beyond the environment: injected, or the
//! process's through [`process_env`].
//!
//! `{unique}` is the run's fresh token ([`unique_token`]): the same in every value of a
//! run, different in every other run (parallel CI jobs and shards included), so a
//! registration journey can make up a login name nobody has taken. It is no secret.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Hold, Value};
use crate::diagnostic::suggest;
use crate::secrets::Secrets;

/// Reads environment variables for `{env:NAME}`; a function so tests need not touch the process.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The run's `{unique}` token: made once per process, on first use.
static UNIQUE: OnceLock<String> = OnceLock::new();
/// Whether any value used `{unique}` (so the run can say which token it used).
static UNIQUE_USED: AtomicBool = AtomicBool::new(false);

/// The token `{unique}` stands for in this run: ten lowercase letters and digits, so it fits
/// a login name or an e-mail's local part. The first six count seconds (runs made later sort
/// later, and a token met in a portal's data tells when it was made); the last four come
/// from the process id and the clock hashed with the standard library's per-process random
/// key, so two runs started in the same second — a CI matrix, shards — still differ.
pub fn unique_token() -> &'static str {
    UNIQUE.get_or_init(|| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u128(now.as_nanos());
        let mut token = base36(now.as_secs(), 6);
        token.push_str(&base36(h.finish(), 4));
        token
    })
}

/// The run's token if a value used it, for the run to show.
pub fn unique_used() -> Option<&'static str> {
    UNIQUE_USED.load(Ordering::Relaxed).then(unique_token)
}

/// The last `width` base-36 digits of `n`, zero-padded.
fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// One piece of a value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// `{Name}`; `at` is the character offset of its `{`, `width` its length with braces.
    Hold {
        name: String,
        at: usize,
        width: usize,
    },
    Env {
        name: String,
        at: usize,
        width: usize,
    },
    Unknown {
        at: usize,
        width: usize,
    },
    Unique,
}

/// Something wrong in a value, `at` characters into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValueError {
    pub at: usize,
    pub width: usize,
    pub message: String,
    pub help: Option<String>,
}

impl ValueError {
    fn new(at: usize, width: usize, message: impl Into<String>, help: impl Into<String>) -> Self {
        ValueError {
            at,
            width,
            message: message.into(),
            help: Some(help.into()),
        }
    }
}

/// Splits a value into literal text and references.
fn pieces(text: &str) -> Result<Vec<Piece>, ValueError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match (c, next) {
            ('{', Some('{')) | ('}', Some('}')) => {
                literal.push(c);
                i += 2;
            }
            ('{', _) => {
                let Some(len) = chars.iter().skip(i + 1).position(|&c| c == '}') else {
                    return Err(ValueError::new(
                        i,
                        chars.len() - i,
                        "unclosed `{` in this value",
                        "close it with `}`, or write `{{` for a literal brace",
                    ));
                };
                let inner: String = chars.iter().skip(i + 1).take(len).collect();
                if inner.contains('{') {
                    return Err(ValueError::new(
                        i,
                        len + 2,
                        "a `{` inside `{…}`",
                        "references do not nest; write `{{` for a literal brace",
                    ));
                }
                if !literal.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut literal)));
                }
                let width = len + 2;
                let name = inner.trim();
                out.push(if name == "unknown" {
                    Piece::Unknown { at: i, width }
                } else if name == "unique" {
                    Piece::Unique
                } else if let Some(var) = name.strip_prefix("env:") {
                    Piece::Env {
                        name: var.trim().to_string(),
                        at: i,
                        width,
                    }
                } else {
                    Piece::Hold {
                        name: name.to_string(),
                        at: i,
                        width,
                    }
                });
                i += width;
            }
            ('}', _) => {
                return Err(ValueError::new(
                    i,
                    1,
                    "a `}` with no `{` before it",
                    "write `}}` for a literal brace",
                ));
            }
            _ => {
                literal.push(c);
                i += 1;
            }
        }
    }
    if !literal.is_empty() || out.is_empty() {
        out.push(Piece::Text(literal));
    }
    Ok(out)
}

/// Resolves values against the holds defined so far and the environment, and collects the
/// secrets they bring in.
pub(crate) struct Resolver<'e> {
    env: Env<'e>,
    holds: Vec<Hold>,
    /// Every hold name in the file, to tell "defined below" from "not defined".
    all_holds: Vec<String>,
    /// Holds that failed to resolve: already reported, so uses of them are not reported again.
    broken: HashSet<String>,
    secrets: Secrets,
}

impl<'e> Resolver<'e> {
    pub(crate) fn new(env: Env<'e>, all_holds: Vec<String>) -> Self {
        Resolver {
            env,
            holds: Vec::new(),
            all_holds,
            broken: HashSet::new(),
            secrets: Secrets::new(),
        }
    }

    /// Resolves a hold's value and makes it available to later values.
    pub(crate) fn define_hold(&mut self, name: &str, text: &str) -> Result<(), Vec<ValueError>> {
        match self.resolve_as(text, false, Some(name)) {
            Ok(value) => {
                self.holds.push(Hold {
                    name: name.to_string(),
                    value,
                });
                Ok(())
            }
            Err(e) => {
                self.broken.insert(name.to_string());
                Err(e)
            }
        }
    }

    /// Resolves a value in a step. `{unknown}` is allowed only where `allow_unknown`.
    pub(crate) fn resolve(
        &mut self,
        text: &str,
        allow_unknown: bool,
    ) -> Result<Value, Vec<ValueError>> {
        self.resolve_as(text, allow_unknown, None)
    }

    fn resolve_as(
        &mut self,
        text: &str,
        allow_unknown: bool,
        hold: Option<&str>,
    ) -> Result<Value, Vec<ValueError>> {
        let pieces = pieces(text).map_err(|e| vec![e])?;
        let mut value = Value::default();
        let mut errors = Vec::new();
        let whole = pieces.len() == 1;
        for piece in pieces {
            match piece {
                Piece::Text(t) => value.text.push_str(&t),
                Piece::Unique => {
                    UNIQUE_USED.store(true, Ordering::Relaxed);
                    value.text.push_str(unique_token());
                }
                Piece::Unknown { at, width } => {
                    if !allow_unknown {
                        let help = match hold {
                            Some(_) => {
                                "a hold is something the user has; leave this hold out, and write `{unknown}` as the value of the field that asks for it"
                            }
                            None => {
                                "write `{unknown}` only as the value of a `fill` or `choose` field the user has nothing for"
                            }
                        };
                        errors.push(ValueError::new(
                            at,
                            width,
                            "`{unknown}` is not allowed here",
                            help,
                        ));
                    } else if !whole {
                        errors.push(ValueError::new(
                            at,
                            width,
                            "`{unknown}` must be the whole value",
                            "write the value as just \"{unknown}\"",
                        ));
                    } else {
                        value.unknown = true;
                    }
                }
                Piece::Env { name, at, width } => {
                    if name.is_empty() {
                        errors.push(ValueError::new(
                            at,
                            width,
                            "`{env:}` names no environment variable",
                            "write the variable's name, e.g. `{env:PORTAL_PIN}`",
                        ));
                        continue;
                    }
                    match (self.env)(&name) {
                        Some(v) => {
                            self.secrets.add(&v);
                            value.text.push_str(&v);
                            value.secret = true;
                        }
                        None => errors.push(ValueError::new(
                            at,
                            width,
                            format!("environment variable `{name}` is not set"),
                            format!("set it before running, e.g. `export {name}=…`"),
                        )),
                    }
                }
                Piece::Hold { name, at, width } => {
                    if name.is_empty() {
                        errors.push(ValueError::new(
                            at,
                            width,
                            "`{}` names no hold",
                            "write a hold's name in the braces, or `{{}}` for literal braces",
                        ));
                        continue;
                    }
                    if let Some(h) = self.holds.iter().find(|h| h.name == name) {
                        value.text.push_str(&h.value.text);
                        value.secret |= h.value.secret;
                        if !value.holds.contains(&name) {
                            value.holds.push(name);
                        }
                    } else if self.broken.contains(&name) {
                        // Reported where the hold is defined; the value is dropped anyway.
                    } else if self.all_holds.contains(&name) {
                        let (message, help) = if hold == Some(name.as_str()) {
                            (
                                format!("hold `{name}` uses itself"),
                                "a hold's value cannot refer to its own name".to_string(),
                            )
                        } else {
                            (
                                format!("hold `{name}` is defined below this one"),
                                format!("a hold may only use holds above it; move `{name}` up"),
                            )
                        };
                        errors.push(ValueError::new(at, width, message, help));
                    } else {
                        let help = match suggest(&name, self.all_holds.iter().map(String::as_str)) {
                            Some(close) => format!("did you mean `{{{close}}}`?"),
                            None if self.all_holds.is_empty() => {
                                format!(
                                    "define it under `holds:`, or write `{{{{{name}}}}}` for literal braces"
                                )
                            }
                            None => format!(
                                "the holds are: {}; or write `{{{{{name}}}}}` for literal braces",
                                self.all_holds
                                    .iter()
                                    .map(|h| format!("`{h}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        };
                        errors.push(ValueError {
                            at,
                            width,
                            message: format!("no hold named `{name}`"),
                            help: Some(help),
                        });
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if value.secret {
            self.secrets.add(&value.text);
        }
        Ok(value)
    }

    /// Treats `text` as a secret even when written literally (a mailbox password).
    pub(crate) fn add_secret(&mut self, text: &str) {
        self.secrets.add(text);
    }

    pub(crate) fn into_parts(self) -> (Vec<Hold>, Secrets) {
        (self.holds, self.secrets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "PORTAL_PIN").then(|| "7391".to_string())
    }

    fn resolver(holds: &[&str]) -> Resolver<'static> {
        Resolver::new(&env, holds.iter().map(|h| h.to_string()).collect())
    }

    #[test]
    fn unique_is_one_token_per_run_and_fits_a_login_name() {
        let mut r = resolver(&["Login"]);
        r.define_hold("Login", "pat{unique}").unwrap();
        let a = r.resolve("qa+{ unique }@example.test", false).unwrap();
        let b = r.resolve("{Login}", false).unwrap();
        let token = unique_token();
        assert_eq!(a.text, format!("qa+{token}@example.test"));
        assert_eq!(b.text, format!("pat{token}"));
        assert!(!a.secret && !b.secret);
        assert_eq!(token.len(), 10);
        assert!(
            token
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_eq!(unique_used(), Some(token));
        // `{{unique}}` stays literal.
        assert_eq!(r.resolve("{{unique}}", false).unwrap().text, "{unique}");
        assert_eq!(base36(35, 2), "0z");
        assert_eq!(base36(36 * 36 + 1, 2), "01");
    }

    #[test]
    fn literal_braces_and_plain_text() {
        let mut r = resolver(&[]);
        let v = r.resolve("a {{b}} c", false).unwrap();
        assert_eq!(v, Value::literal("a {b} c"));
        assert_eq!(r.resolve("", false).unwrap(), Value::literal(""));
    }

    #[test]
    fn holds_resolve_and_are_listed_once_in_order() {
        let mut r = resolver(&["A", "B"]);
        r.define_hold("A", "x").unwrap();
        r.define_hold("B", "y{A}").unwrap();
        let v = r.resolve("{B}-{A}-{ B }", false).unwrap();
        assert_eq!(v.text, "yx-x-yx");
        assert_eq!(v.holds, ["B", "A"]);
        assert!(!v.secret);
        assert_eq!(r.into_parts().0[1].value.holds, ["A"]);
    }

    #[test]
    fn env_values_are_secret_through_holds() {
        let mut r = resolver(&["PIN", "Greeting"]);
        r.define_hold("PIN", "{env:PORTAL_PIN}").unwrap();
        r.define_hold("Greeting", "pin-{PIN}").unwrap();
        let v = r.resolve("{Greeting}!", false).unwrap();
        assert_eq!(v.text, "pin-7391!");
        assert!(v.secret);
        let (holds, secrets) = r.into_parts();
        assert!(holds.iter().all(|h| h.value.secret));
        assert_eq!(
            secrets.mask("7391 pin-7391! ok"),
            format!("{0} {0} ok", crate::secrets::MASK)
        );
    }

    #[test]
    fn unknown_only_whole_and_only_where_allowed() {
        let mut r = resolver(&[]);
        let v = r.resolve("{unknown}", true).unwrap();
        assert!(v.unknown);
        assert_eq!(v.text, "");
        let e = r.resolve("x{unknown}", true).unwrap_err();
        assert!(e[0].message.contains("whole value"));
        let e = r.resolve("{unknown}", false).unwrap_err();
        assert!(e[0].message.contains("not allowed here"));
    }

    #[test]
    fn errors_carry_offsets_and_suggestions() {
        let mut r = resolver(&["Owner Name"]);
        r.define_hold("Owner Name", "Pat").unwrap();
        let e = r.resolve("ab{Ownr Name} {env:NOPE}", false).unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].at, e[0].width), (2, 11));
        assert_eq!(e[0].help.as_deref(), Some("did you mean `{Owner Name}`?"));
        assert_eq!(e[1].at, 14);
        assert!(e[1].message.contains("`NOPE` is not set"));
        let e = r.resolve("abc {Owner", false).unwrap_err();
        assert_eq!(e[0].at, 4);
        assert!(e[0].message.contains("unclosed"));
        let e = r.resolve("a } b", false).unwrap_err();
        assert_eq!(e[0].at, 2);
    }

    #[test]
    fn holds_may_not_use_holds_below_or_themselves() {
        let mut r = resolver(&["A", "B"]);
        let e = r.define_hold("A", "{B}").unwrap_err();
        assert!(e[0].message.contains("defined below"), "{e:?}");
        // A is broken now; a use of it is not reported twice.
        r.define_hold("B", "{A}").unwrap();
        let mut r = resolver(&["A"]);
        let e = r.define_hold("A", "{A}").unwrap_err();
        assert!(e[0].message.contains("uses itself"));
    }
}
