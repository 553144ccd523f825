//! The phone probe: support's directory loaded, and the optional carrier-lookup provider
//! asked, one HTTP GET per number, its answers read as live, not live, or unknown.
//!
//! The answer's shape follows the common lookup APIs: Twilio Lookup v2
//! (`{"valid": true, "line_status": {"status": "active"}}`) and the plainer carrier-lookup
//! answers (`{"status": "disconnected", "carrier": "…"}`). Whatever the provider cannot
//! say for sure stays *unknown*, which the checks report as unverified, never as dead.
//! Credentials come from the environment and never appear in any message.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::status::{LineStatus, LookupAnswer, PhoneProbes};
use crate::config::Phones;
use crate::phones::Directory;

/// How long one lookup may take.
pub(crate) const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Lookups in flight at once: providers rate-limit, and a run has few numbers.
const IN_FLIGHT: usize = 4;

/// Loads the directory and looks up, through the configured provider, every number it
/// does not list. Problems (unreadable directory, unset credentials, refused lookups) are
/// kept in [`PhoneProbes::errors`]; the numbers concerned stay unverified.
pub fn lookup_all(numbers: &[String], cfg: &Phones, env: crate::scenario::Env<'_>) -> PhoneProbes {
    let mut probes = PhoneProbes::default();
    if let Some(path) = &cfg.directory {
        match Directory::load(path, cfg.region.as_deref()) {
            Ok(d) => probes.directory = Some(d),
            Err(problems) => probes
                .errors
                .extend(problems.iter().map(ToString::to_string)),
        }
    }
    let Some(provider) = &cfg.lookup else {
        return probes;
    };
    let todo: Vec<String> = numbers
        .iter()
        .filter(|n| probes.directory.as_ref().is_none_or(|d| d.get(n).is_none()))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if todo.is_empty() {
        return probes;
    }
    match credentials(provider, env) {
        Ok(creds) => {
            let (answers, errors) = query(&provider.url, &creds, &todo, LOOKUP_TIMEOUT);
            probes.lookups = answers;
            probes.errors.extend(errors);
        }
        Err(e) => probes.errors.push(e),
    }
    probes
}

/// How to authenticate: basic auth with a user (and password), or a bearer token alone.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    None,
    Basic {
        user: String,
        password: Option<String>,
    },
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    // Never print a secret, not even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Basic { .. } => f.write_str("Basic(***)"),
            Credentials::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

/// The credentials `phones.lookup` names, read from the environment.
pub fn credentials(
    lookup: &crate::config::PhoneLookup,
    env: crate::scenario::Env<'_>,
) -> Result<Credentials, String> {
    let read = |name: &Option<String>| -> Result<Option<String>, String> {
        match name {
            None => Ok(None),
            Some(var) => env(var).map(Some).ok_or_else(|| {
                format!(
                    "phones.lookup: the environment variable {var} is not set, so no number was looked up"
                )
            }),
        }
    };
    let user = read(&lookup.user_env)?;
    let password = read(&lookup.password_env)?;
    Ok(match (user, password) {
        (Some(user), password) => Credentials::Basic { user, password },
        (None, Some(token)) => Credentials::Bearer(token),
        (None, None) => Credentials::None,
    })
}

/// Looks every number up; returns the answers by E.164 and what went wrong overall (the
/// provider refusing the credentials, say). Blocking: it runs its own small runtime on a
/// thread of its own, so it may be called from anywhere, async code included.
pub fn query(
    url_template: &str,
    credentials: &Credentials,
    numbers: &[String],
    timeout: Duration,
) -> (BTreeMap<String, LookupAnswer>, Vec<String>) {
    let joined = std::thread::scope(|s| {
        s.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("phones.lookup: cannot start the HTTP client: {e}"))?;
            Ok::<_, String>(runtime.block_on(query_async(
                url_template,
                credentials,
                numbers,
                timeout,
            )))
        })
        .join()
    });
    match joined {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => (BTreeMap::new(), vec![e]),
        Err(_) => (
            BTreeMap::new(),
            vec!["phones.lookup: the lookup stopped unexpectedly; numbers are unverified".into()],
        ),
    }
}

async fn query_async(
    url_template: &str,
    credentials: &Credentials,
    numbers: &[String],
    timeout: Duration,
) -> (BTreeMap<String, LookupAnswer>, Vec<String>) {
    let mut errors = Vec::new();
    let client = match reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("nocall/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            errors.push(format!("phones.lookup: cannot start the HTTP client: {e}"));
            return (BTreeMap::new(), errors);
        }
    };
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for number in numbers {
        let url = url_template.replace(
            "{number}",
            &utf8_percent_encode(number, NON_ALPHANUMERIC).to_string(),
        );
        let (client, gate, credentials, number) = (
            client.clone(),
            gate.clone(),
            credentials.clone(),
            number.clone(),
        );
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let answer = ask(&client, &url, &credentials).await;
            (number, answer)
        });
    }
    let mut answers = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((number, answer)) = joined else {
            continue;
        };
        let answer = match answer {
            Ok(a) => a,
            Err(refused) => {
                if !errors.contains(&refused) {
                    errors.push(refused);
                }
                LookupAnswer::unknown("the lookup provider refused the credentials")
            }
        };
        answers.insert(number, answer);
    }
    (answers, errors)
}

/// One lookup. `Err` only when the provider refuses the credentials: that concerns every
/// number, so it is reported once for the run.
async fn ask(
    client: &reqwest::Client,
    url: &str,
    credentials: &Credentials,
) -> Result<LookupAnswer, String> {
    let mut request = client.get(url).header("accept", "application/json");
    request = match credentials {
        Credentials::None => request,
        Credentials::Basic { user, password } => request.basic_auth(user, password.as_ref()),
        Credentials::Bearer(token) => request.bearer_auth(token),
    };
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() {
                "the lookup provider did not answer in time".to_string()
            } else {
                format!(
                    "the lookup provider could not be reached: {}",
                    e.without_url()
                )
            };
            return Ok(LookupAnswer::unknown(why));
        }
    };
    let code = response.status();
    if code == reqwest::StatusCode::UNAUTHORIZED || code == reqwest::StatusCode::FORBIDDEN {
        return Err(format!(
            "phones.lookup: the provider refused the credentials (HTTP {}); numbers the directory does not list are unverified",
            code.as_u16()
        ));
    }
    if code == reqwest::StatusCode::NOT_FOUND {
        return Ok(LookupAnswer::unknown(
            "the lookup provider has no record of it",
        ));
    }
    if !code.is_success() {
        return Ok(LookupAnswer::unknown(format!(
            "the lookup provider answered HTTP {}",
            code.as_u16()
        )));
    }
    match response.bytes().await {
        Ok(body) => match serde_json::from_slice::<Value>(&body) {
            Ok(v) => Ok(interpret(&v)),
            Err(_) => Ok(LookupAnswer::unknown(
                "the lookup provider's answer is not JSON",
            )),
        },
        Err(e) => Ok(LookupAnswer::unknown(format!(
            "the lookup provider's answer broke off: {}",
            e.without_url()
        ))),
    }
}

/// Reads a provider's JSON answer.
pub(crate) fn interpret(v: &Value) -> LookupAnswer {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let carrier = [
        v.pointer("/line_type_intelligence/carrier_name"),
        v.pointer("/carrier/name"),
        v.get("carrier"),
        v.get("carrier_name"),
    ]
    .into_iter()
    .flatten()
    .find_map(text);
    if v.get("valid").and_then(Value::as_bool) == Some(false) {
        let errors: Vec<String> = v
            .get("validation_errors")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(text).collect())
            .unwrap_or_default();
        let said = if errors.is_empty() {
            "not a valid number".to_string()
        } else {
            format!("not a valid number ({})", errors.join(", ").to_lowercase())
        };
        return LookupAnswer {
            status: LineStatus::NotLive,
            said,
            carrier,
        };
    }
    let status_word = [
        v.pointer("/line_status/status"),
        v.get("line_status"),
        v.get("status"),
        v.get("number_status"),
        v.get("line_state"),
        v.get("state"),
    ]
    .into_iter()
    .flatten()
    .find_map(text);
    let (status, said) = match status_word {
        Some(word) => (classify(&word), word),
        None => {
            let flag = ["reachable", "live", "active", "in_service"]
                .into_iter()
                .find_map(|k| v.get(k).and_then(Value::as_bool).map(|b| (k, b)));
            match flag {
                Some((k, true)) => (LineStatus::Live, k.replace('_', " ")),
                Some((k, false)) => (LineStatus::NotLive, format!("not {}", k.replace('_', " "))),
                None => (
                    LineStatus::Unknown,
                    "the provider's answer says nothing about the line".to_string(),
                ),
            }
        }
    };
    LookupAnswer {
        status,
        said,
        carrier,
    }
}

fn classify(word: &str) -> LineStatus {
    let w = word.trim().to_lowercase().replace(['-', ' '], "_");
    match w.as_str() {
        "active" | "live" | "reachable" | "in_service" | "connected" | "assigned" | "working" => {
            LineStatus::Live
        }
        "inactive" | "disconnected" | "not_in_service" | "unreachable" | "deactivated"
        | "unallocated" | "unassigned" | "dead" | "absent" | "out_of_service" | "invalid"
        | "not_active" | "suspended" => LineStatus::NotLive,
        _ => LineStatus::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn twilio_v2_answers() {
        let live = interpret(&json!({
            "phone_number": "+14155550100", "valid": true, "validation_errors": [],
            "line_status": {"status": "active", "error_code": null}
        }));
        assert_eq!(live.status, LineStatus::Live);
        let dead = interpret(&json!({"valid": true, "line_status": {"status": "inactive"}}));
        assert_eq!(
            (dead.status, dead.said.as_str()),
            (LineStatus::NotLive, "inactive")
        );
        let invalid = interpret(&json!({"valid": false, "validation_errors": ["TOO_SHORT"]}));
        assert_eq!(invalid.status, LineStatus::NotLive);
        assert_eq!(invalid.said, "not a valid number (too_short)");
        // Valid but the line status was not asked for: nothing is known about the line.
        let silent = interpret(&json!({"valid": true, "line_status": null}));
        assert_eq!(silent.status, LineStatus::Unknown);
    }

    #[test]
    fn plain_carrier_lookup_answers() {
        let a = interpret(
            &json!({"number": "+14155552671", "status": "Not in service", "carrier": "Acme"}),
        );
        assert_eq!(a.status, LineStatus::NotLive);
        assert_eq!(a.carrier.as_deref(), Some("Acme"));
        let b = interpret(&json!({"reachable": true}));
        assert_eq!(b.status, LineStatus::Live);
        let c = interpret(&json!({"status": "pending"}));
        assert_eq!(c.status, LineStatus::Unknown);
        let d = interpret(
            &json!({"line_type_intelligence": {"carrier_name": "Verizon"}, "live": false}),
        );
        assert_eq!(
            (d.status, d.carrier.as_deref()),
            (LineStatus::NotLive, Some("Verizon"))
        );
    }

    #[test]
    fn credentials_come_from_the_environment_and_never_print() {
        let lookup = crate::config::PhoneLookup {
            url: "http://x/{number}".into(),
            user_env: Some("LOOKUP_USER".into()),
            password_env: Some("LOOKUP_PASSWORD".into()),
        };
        let env = |name: &str| match name {
            "LOOKUP_USER" => Some("AC123".to_string()),
            "LOOKUP_PASSWORD" => Some("s3cret".to_string()),
            _ => None,
        };
        let creds = credentials(&lookup, &env).unwrap();
        assert!(!format!("{creds:?}").contains("s3cret"));
        assert!(matches!(creds, Credentials::Basic { ref user, .. } if user == "AC123"));
        let none = |_: &str| None;
        let err = credentials(&lookup, &none).unwrap_err();
        assert!(err.contains("LOOKUP_USER is not set"), "{err}");
        let token_only = crate::config::PhoneLookup {
            user_env: None,
            ..lookup
        };
        assert!(matches!(
            credentials(&token_only, &env),
            Ok(Credentials::Bearer(_))
        ));
    }

    #[test]
    fn an_unreachable_provider_leaves_numbers_unknown() {
        // Port 9 on localhost: nothing listens there.
        let (answers, errors) = query(
            "http://127.0.0.1:9/v1/{number}",
            &Credentials::None,
            &["+14155550100".to_string()],
            Duration::from_secs(2),
        );
        assert!(errors.is_empty());
        assert_eq!(answers["+14155550100"].status, LineStatus::Unknown);
    }

    #[test]
    fn lookup_all_without_provider_only_loads_the_directory() {
        let dir = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(dir.path(), "+14155552671,disconnected,\n").unwrap();
        let cfg = Phones {
            directory: Some(dir.path().to_path_buf()),
            ..Phones::default()
        };
        let probes = lookup_all(&["+14155552671".into()], &cfg, &|_| None);
        assert!(probes.errors.is_empty());
        assert!(matches!(
            probes.reachability("+14155552671"),
            crate::probe::status::Reachability::Dead { .. }
        ));
        let broken = Phones {
            directory: Some("/nonexistent/phones.csv".into()),
            ..Phones::default()
        };
        let probes = lookup_all(&[], &broken, &|_| None);
        assert_eq!(probes.errors.len(), 1);
        assert!(probes.directory.is_none());
    }
}
