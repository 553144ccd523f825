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
        if volatile_key(key) || generated(value) {
            return format!("{}{key}=*", &c[1]);
        }
        // A value that is itself an address (`returnto=Special:ConfirmEmail/<token>`):
        // only its generated parts go.
        let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
        let parts: Vec<&str> = decoded.split(['/', ':']).collect();
        if parts.len() > 1 && parts.iter().any(|p| generated(p)) {
            let kept: Vec<&str> = decoded
                .split_inclusive(['/', ':'])
                .map(|p| {
                    let bare = p.trim_end_matches(['/', ':']);
                    if generated(bare) { "*" } else { p }
                })
                .collect();
            return format!("{}{key}={}", &c[1], kept.join(""));
        }
        c[0].to_string()
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

/// Random-looking, or a timestamp: 10 digits or more (seconds or milliseconds since 1970,
/// `20261201175100`).
fn generated(value: &str) -> bool {
    crate::probe::policy::looks_random(value)
        || (value.len() >= 10 && value.len() <= 17 && value.bytes().all(|b| b.is_ascii_digit()))
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
        // A wiki's "changes since" link and its return-to address holding a token.
        assert_eq!(
            steady("/index.php?title=Special:RecentChanges&from=20261201175100&days=30"),
            "/index.php?title=Special:RecentChanges&from=*&days=30"
        );
        assert_eq!(
            steady(
                "/index.php?title=Special:UserLogin&returnto=Special%3AConfirmEmail%2F4f9a0c2b7d1e8f3a6b5c9d0e1f2a3b4c"
            ),
            "/index.php?title=Special:UserLogin&returnto=Special:ConfirmEmail/*"
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
