//! Phone probes for real: support's directory from a file, and a carrier-lookup provider
//! served over HTTP on 127.0.0.1 by the test itself, then the phone check over their
//! answers.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;

use nocall::checks::{Audit, audit};
use nocall::config::{Config, PhoneLookup, Phones};
use nocall::finding::Kind;
use nocall::phones::numbers_of;
use nocall::probe::lookup::lookup_all;
use nocall::probe::status::{LineStatus, Probes, Reachability};
use nocall::trace::{Link, PageState, StepTrace, Trace};

const USER: &str = "AC0123";
const PASSWORD: &str = "lookup-s3cret";

#[derive(Clone, Default)]
struct Provider {
    asked: Arc<Mutex<Vec<String>>>,
}

/// A lookup provider shaped like Twilio Lookup v2 with the line-status package.
async fn lookup(
    State(provider): State<Provider>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&expected)
    {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"code":20003,"message":"Authenticate"}"#,
        )
            .into_response();
    }
    if let Ok(mut asked) = provider.asked.lock() {
        asked.push(number.clone());
    }
    let body = match number.as_str() {
        "+12127365000" => {
            r#"{"phone_number":"+12127365000","valid":true,"line_status":{"status":"inactive","error_code":null}}"#
        }
        "+16502530000" => {
            r#"{"phone_number":"+16502530000","valid":true,"line_status":{"status":"active","error_code":null}}"#
        }
        "+13125550000" => return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        "+18024437165" => return (StatusCode::NOT_FOUND, "{}").into_response(),
        _ => r#"{"valid":true,"line_status":null}"#,
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Serves the provider on a free port; the runtime must outlive the test's lookups.
fn serve() -> (tokio::runtime::Runtime, String, Provider) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let provider = Provider::default();
    let app = Router::new()
        .route("/v2/PhoneNumbers/{number}", get(lookup))
        .with_state(provider.clone());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a free port");
    let addr = listener.local_addr().expect("an address");
    runtime.spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}/v2/PhoneNumbers/{{number}}?Fields=line_status");
    (runtime, url, provider)
}

fn env(name: &str) -> Option<String> {
    match name {
        "LOOKUP_USER" => Some(USER.to_string()),
        "LOOKUP_PASSWORD" => Some(PASSWORD.to_string()),
        _ => None,
    }
}

fn phones(url: &str, directory: Option<std::path::PathBuf>) -> Phones {
    Phones {
        region: Some("US".into()),
        directory,
        lookup: Some(PhoneLookup {
            url: url.to_string(),
            user_env: Some("LOOKUP_USER".into()),
            password_env: Some("LOOKUP_PASSWORD".into()),
        }),
    }
}

/// A journey over one contact page showing five numbers.
fn journey() -> Trace {
    let text = "Contact us\n\
                Card services: (212) 736-5000\n\
                Sales: +1 650 253 0000\n\
                IT desk: (415) 555-2671\n\
                Library: (802) 443-7165\n\
                Billing: (312) 555-0000";
    Trace {
        scenario: "contact".into(),
        file: "scenarios/contact.yaml".into(),
        start_url: "http://127.0.0.1:1/".into(),
        monthly_users: 100.0,
        steps: vec![StepTrace {
            index: 1,
            line: 4,
            action: "open /contact".into(),
            page: Some(PageState {
                url: "http://127.0.0.1:1/contact".into(),
                status: Some(200),
                title: "Contact us".into(),
                lang: "en-US".into(),
                text: text.into(),
                links: vec![Link {
                    text: "(212) 736-5000".into(),
                    href: "tel:+12127365000".into(),
                    tag: "a".into(),
                    visible: true,
                    ..Link::default()
                }],
                ..PageState::default()
            }),
            ..StepTrace::default()
        }],
        ..Trace::default()
    }
}

#[test]
fn directory_first_then_the_provider_over_http() {
    let (_runtime, url, provider) = serve();
    let dir = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(
        dir.path(),
        "number,status,hours\n(415) 555-2671,disconnected,\n",
    )
    .expect("written");
    let traces = [journey()];
    let config = Config {
        phones: phones(&url, Some(dir.path().to_path_buf())),
        ..Config::default()
    };

    let numbers = numbers_of(&traces, &config);
    assert_eq!(
        numbers,
        [
            "+12127365000",
            "+13125550000",
            "+14155552671",
            "+16502530000",
            "+18024437165"
        ]
    );
    let probes = lookup_all(&numbers, &config.phones, &env);
    assert!(probes.errors.is_empty(), "{:?}", probes.errors);

    // The directory's number is never sent to the provider; the `+` arrives intact.
    let mut asked = provider.asked.lock().expect("the log").clone();
    asked.sort();
    assert_eq!(
        asked,
        [
            "+12127365000",
            "+13125550000",
            "+16502530000",
            "+18024437165"
        ]
    );
    let status: BTreeMap<&str, LineStatus> = probes
        .lookups
        .iter()
        .map(|(n, a)| (n.as_str(), a.status))
        .collect();
    assert_eq!(status["+12127365000"], LineStatus::NotLive);
    assert_eq!(status["+16502530000"], LineStatus::Live);
    assert_eq!(status["+13125550000"], LineStatus::Unknown);
    assert_eq!(status["+18024437165"], LineStatus::Unknown);
    assert!(matches!(
        probes.reachability("+14155552671"),
        Reachability::Dead { .. }
    ));
    assert_eq!(
        probes.unverified(&numbers),
        ["+13125550000", "+18024437165"],
        "a provider error or a missing record leaves a number unverified"
    );

    // The check over those answers: the dead lines are unreachable, the live and the
    // unverified ones are not; the 555 number with no answer is still a fiction number.
    let probes = Probes {
        phones: probes,
        ..Probes::default()
    };
    let findings = audit(&Audit {
        traces: &traces,
        config: &config,
        probes: &probes,
    });
    let mut phone_findings: Vec<(Kind, &str)> = findings
        .iter()
        .filter(|f| {
            matches!(
                f.kind,
                Kind::PhoneInvalid | Kind::PhoneMismatch | Kind::PhoneUnreachable
            )
        })
        .map(|f| (f.kind, f.element.as_str()))
        .collect();
    phone_findings.sort();
    assert_eq!(
        phone_findings,
        [
            (Kind::PhoneInvalid, "phone number +13125550000"),
            (Kind::PhoneUnreachable, "phone number +12127365000"),
            (Kind::PhoneUnreachable, "phone number +14155552671"),
        ],
        "{findings:#?}"
    );
    let dead = findings
        .iter()
        .find(|f| f.element == "phone number +12127365000")
        .expect("the inactive line");
    assert!(
        dead.message
            .contains("not live according to the lookup provider (\"inactive\")"),
        "{}",
        dead.message
    );
}

#[test]
fn refused_credentials_leave_numbers_unverified_and_never_leak_the_secret() {
    let (_runtime, url, provider) = serve();
    let wrong = |name: &str| match name {
        "LOOKUP_USER" => Some(USER.to_string()),
        "LOOKUP_PASSWORD" => Some("wrong-password".to_string()),
        _ => None,
    };
    let numbers = ["+12127365000".to_string(), "+16502530000".to_string()];
    let probes = lookup_all(&numbers, &phones(&url, None), &wrong);
    assert_eq!(probes.errors.len(), 1, "{:?}", probes.errors);
    assert!(probes.errors[0].contains("refused the credentials (HTTP 401)"));
    assert!(!probes.errors.iter().any(|e| e.contains("wrong-password")));
    assert!(provider.asked.lock().expect("the log").is_empty());
    assert_eq!(probes.unverified(&numbers).len(), 2);
    let dump = serde_json::to_string(&probes).expect("plain data");
    assert!(!dump.contains("wrong-password"));
}

#[test]
fn unset_credentials_are_said_once_and_nothing_is_looked_up() {
    let (_runtime, url, provider) = serve();
    let probes = lookup_all(&["+12127365000".to_string()], &phones(&url, None), &|_| {
        None
    });
    assert_eq!(probes.errors.len(), 1);
    assert!(probes.errors[0].contains("LOOKUP_USER is not set"));
    assert!(probes.lookups.is_empty());
    assert!(provider.asked.lock().expect("the log").is_empty());
}

/// A help page listing two lines, each with its own hours on its own row, served for real
/// and read by `nocall run` in Chromium: the "24 hours" of the emergencies row is that
/// line's promise only, never the billing line's above it.
#[test]
fn hours_belong_to_the_number_on_their_own_row() {
    const HELP: &str = "<!doctype html><html lang=en><title>Phone lines</title><body>\
        <h1>Phone lines</h1><ul>\
        <li>Billing <a href=\"tel:+14158092200\">(415) 809-2200</a>, Mon–Fri 8–6</li>\
        <li>Emergencies, 24 hours: <a href=\"tel:+14158092300\">(415) 809-2300</a></li>\
        </ul></body></html>";
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = Router::new().route(
        "/help/phones",
        get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], HELP) }),
    );
    common::serve(listener, router);

    let dir = tempfile::tempdir().expect("temp");
    std::fs::write(
        dir.path().join("phones.yaml"),
        format!(
            "name: Find the billing line\nstart: http://{addr}/\nsteps:\n  - open: /help/phones\n  - expect: Billing\n"
        ),
    )
    .expect("scenario");
    std::fs::write(
        dir.path().join("nocall.yaml"),
        "phones:\n  region: US\n  directory: lines.csv\n",
    )
    .expect("config");
    // Billing keeps its weekday hours; the emergencies line is not staffed round the clock.
    std::fs::write(
        dir.path().join("lines.csv"),
        "number,status,hours\n+14158092200,live,Mon-Fri 8-6\n+14158092300,live,Mon-Fri 9-5\n",
    )
    .expect("directory");
    let out = tempfile::tempdir().expect("temp");
    let output = common::nocall()
        .arg("run")
        .arg(dir.path())
        .args(["--offline", "--format", "json", "--out"])
        .arg(out.path())
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stderr));
    });
    let unreachable: Vec<String> = common::findings(&report, "phone-unreachable")
        .iter()
        .map(|f| {
            format!(
                "{} — {}",
                f["element"].as_str().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(unreachable.len(), 1, "{unreachable:#?}");
    assert!(
        unreachable[0].contains("+14158092300") && unreachable[0].contains("\"24 hours\""),
        "{unreachable:#?}"
    );
}
