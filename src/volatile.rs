//! What in a URL changes from one run to the next: nonces, session ids, one-time tokens and
//! other generated values. Finding ids leave them out, so the same problem keeps its id
//! across runs and a baseline can excuse it.
//!
//! Only for ids: messages and reports keep the URL as the user saw it.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Query keys whose values are generated per session or per request.
const VOLATILE_KEYS: [&str; 22] = [
    "nonce",
    "token",
    "csrf",
    "xsrf",
    "sid",
    "sessionid",
    "session",
    "jsessionid",
    "phpsessid",
    "state",
    "code",
    "key",
    "sig",
    "signature",
    "hash",
    "ts",
    "timestamp",
    "t",
    "rnd",
    "rand",
    "cachebuster",
    "otp",
];

static QUERY_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([?&;])([^=&#\s"'<>]+)=([^&#;\s"'<>]*)"#).expect("a valid static pattern")
});
static PATH_PART: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/([A-Za-z0-9._~+=-]{16,})").expect("a valid static pattern"));

/// `text` with every generated value in a URL replaced by `*`: the value of a query key
/// that names a nonce, token or session (`_wpnonce`, `csrf_token`, `PHPSESSID`…), any query
/// value or path segment that looks random, and a `;jsessionid=` path parameter.
pub(crate) fn steady(text: &str) -> Cow<'_, str> {
    let queried = QUERY_PAIR.replace_all(text, |c: &Captures<'_>| {
        let key = &c[2];
        let value = &c[3];
        if volatile_key(key) || crate::probe::policy::looks_random(value) {
            format!("{}{key}=*", &c[1])
        } else {
            c[0].to_string()
        }
    });
    let pathed = PATH_PART.replace_all(&queried, |c: &Captures<'_>| {
        if crate::probe::policy::looks_random(&c[1]) {
            "/*".to_string()
        } else {
            c[0].to_string()
        }
    });
    if pathed == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(pathed.into_owned())
    }
}

fn volatile_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .flat_map(|c| c.to_lowercase())
        .collect();
    VOLATILE_KEYS.contains(&k.as_str())
        || ["nonce", "token", "csrf", "session"]
            .iter()
            .any(|part| k.contains(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_tokens_and_random_values_are_left_out() {
        assert_eq!(
            steady("wp.test/wp-login.php?action=logout&_wpnonce=7f3a9c21de"),
            "wp.test/wp-login.php?action=logout&_wpnonce=*"
        );
        assert_eq!(
            steady("/reset/MQ/c4k2p1-9f0e8d7c6b5a4f3e2d1c0b9a8f7e6d5c/"),
            "/reset/MQ/*/"
        );
        assert_eq!(steady("/a?PHPSESSID=abc&page=2"), "/a?PHPSESSID=*&page=2");
        assert_eq!(
            steady("/confirm?u=12&t=8d2f0c1e7b9a4d3c5e6f7a8b9c0d1e2f"),
            "/confirm?u=12&t=*"
        );
    }

    #[test]
    fn ordinary_addresses_are_kept_as_they_are() {
        for s in [
            "/help/articles/reset-password",
            "/index.php?title=Special:UserLogin&returnto=Main_Page",
            "link \"Contact us\" → /contact?topic=billing",
            "tel +14155552671",
        ] {
            assert!(matches!(steady(s), Cow::Borrowed(_)), "{s}");
        }
    }
}
