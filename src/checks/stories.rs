//! Every check at once over hand-built traces of the example portal's stories: each trap
//! reported with the right kind, and the clean portal with none at all.

use super::testkit::*;
use crate::checks::Audit;
use crate::config::Config;
use crate::finding::{Finding, Kind};
use crate::probe::status::Probes;
use crate::trace::{Field, Link, NameSource, PageState, Trace};

fn audit(traces: &[Trace]) -> Vec<Finding> {
    let config = Config {
        synonyms: vec![vec![
            "User Name".into(),
            "Username".into(),
            "Login name".into(),
        ]],
        ..Config::default()
    };
    let probes = Probes::default();
    crate::checks::audit(&Audit {
        traces,
        config: &config,
        probes: &probes,
    })
}

fn kinds(found: &[Finding]) -> Vec<(Kind, String)> {
    let mut v: Vec<(Kind, String)> = found.iter().map(|f| (f.kind, f.element.clone())).collect();
    v.sort();
    v
}

/// Header, navigation and footer of a site, as the runner records them.
fn chrome(site: &str) -> Vec<Link> {
    vec![
        link("Home", &format!("/{site}/"), "header"),
        link("Help", &format!("/{site}/help"), "nav"),
        link("Privacy", &format!("/{site}/privacy"), "footer"),
        link("Accessibility", &format!("/{site}/accessibility"), "footer"),
    ]
}

fn typed(name: &str, ty: &str, autocomplete: &str) -> Field {
    Field {
        input_type: ty.into(),
        autocomplete: autocomplete.into(),
        html: format!("<input type=\"{ty}\" autocomplete=\"{autocomplete}\">"),
        ..field(name)
    }
}

const CARD: &[&str] = &[
    "Owner Name",
    "Owner Number",
    "Conference Code",
    "Leader PIN",
    "Email",
];

fn confer_login(extra: &str) -> PageState {
    let mut p = page(
        "/confer/login",
        "Log in — BridgeLine Conferencing",
        &format!(
            "BridgeLine Conferencing\nHome\nLog in\nHelp\nLog in to your account\n{extra}Owner Name\nPassword\nLog in\nIf you are visiting for the first time, click on forgot password.\nReset your access\nPrivacy\nAccessibility"
        ),
    );
    p.fields = vec![
        typed("Owner Name", "text", "username"),
        typed("Password", "password", "current-password"),
    ];
    p.buttons = vec![button("Log in")];
    p.links = chrome("confer");
    p.links.push(link("Log in", "/confer/login", "header"));
    p.links
        .push(link("Reset your access", "/confer/forgot", "main"));
    p
}

fn confer_traces() -> Vec<Trace> {
    let login = confer_login("");
    let refused = confer_login("Invalid owner name or password.\n");
    let first_login = trace(
        "confer-first-login",
        CARD,
        vec![
            open(1, login.clone()),
            fill(
                2,
                &login,
                &[(0, &["Owner Name"], false), (1, &["Leader PIN"], false)],
            ),
            click(3, "Log in", refused.clone()),
            failed_expect(4, "Welcome", refused),
        ],
    );

    let mut register = page(
        "/confer/register",
        "Register — BridgeLine Conferencing",
        "BridgeLine Conferencing\nCreate your web account\nOwner Number\nWeb PIN\nChoose a User Name\nEmail\nChoose a password\nRegister",
    );
    let mut pin = required(typed("Web PIN", "text", "off"));
    pin.pattern = "\\d{4}".into();
    register.fields = vec![
        required(typed("Owner Number", "text", "")),
        pin,
        required(typed("Choose a User Name", "text", "username")),
        required(typed("Email", "email", "email")),
        required(typed("Choose a password", "password", "new-password")),
    ];
    register.buttons = vec![button("Register")];
    register.links = chrome("confer");
    let mut support = page(
        "/confer/register",
        "Web PIN required — BridgeLine Conferencing",
        "BridgeLine Conferencing\nHome\nHelp\nWeb PIN required\nWeb PINs are issued by Technical Support. Please call 1-800-555-0199 to receive your Web PIN.\nPrivacy\nAccessibility",
    );
    support.links = chrome("confer");
    let registration = trace(
        "confer-register",
        CARD,
        vec![
            open(1, register.clone()),
            fill(
                2,
                &register,
                &[
                    (0, &["Owner Number"], false),
                    (1, &[], true),
                    (2, &["Owner Name"], false),
                    (3, &["Email"], false),
                    (4, &[], false),
                ],
            ),
            click(3, "Register", support.clone()),
            failed_expect(4, "Welcome", support),
        ],
    );

    let mut forgot = page(
        "/confer/forgot",
        "Reset your access — BridgeLine Conferencing",
        "Reset your access\nUser Name or Email\nSend reset link",
    );
    forgot.fields = vec![required(typed("User Name or Email", "text", "username"))];
    forgot.buttons = vec![button("Send reset link")];
    forgot.links = chrome("confer");
    let mut not_found = forgot.clone();
    not_found.text =
        "Reset your access\nWe could not find that account.\nUser Name or Email\nSend reset link"
            .into();
    let recovery = trace(
        "confer-forgot-password",
        CARD,
        vec![
            open(1, login.clone()),
            click(2, "Reset your access", forgot.clone()),
            fill(3, &forgot, &[(0, &["Email"], false)]),
            click(4, "Send reset link", not_found.clone()),
            failed_expect(5, "Check your e-mail", not_found),
        ],
    );
    vec![first_login, registration, recovery]
}

#[test]
fn the_teleconference_traps_are_each_reported_with_their_kind() {
    let found = audit(&confer_traces());
    let got = kinds(&found);
    let want = |k: Kind, e: &str| (k, e.to_string());
    for expected in [
        want(Kind::LabelMismatch, "input labelled \"Password\""),
        want(Kind::LabelInconsistent, "credential \"Owner Name\""),
        want(Kind::UnknownInfo, "input labelled \"Web PIN\""),
        want(
            Kind::InstructionMismatch,
            "instruction \"click on forgot password\"",
        ),
        want(
            Kind::SupportOnlyPath,
            "text \"Web PINs are issued by Technical Support.\"",
        ),
    ] {
        assert!(got.contains(&expected), "missing {expected:?} in {got:#?}");
    }
    let label_kinds = got
        .iter()
        .filter(|(k, _)| {
            matches!(
                k,
                Kind::LabelMismatch
                    | Kind::LabelInconsistent
                    | Kind::LabelMissing
                    | Kind::UnknownInfo
                    | Kind::InstructionMismatch
                    | Kind::SupportOnlyPath
            )
        })
        .count();
    assert_eq!(label_kinds, 5, "{found:#?}");
    let by = |k: Kind| found.iter().find(|f| f.kind == k);
    assert!(by(Kind::LabelMismatch).is_some_and(|f| f.blocking));
    assert!(by(Kind::UnknownInfo).is_some_and(|f| f.blocking));
    assert!(by(Kind::SupportOnlyPath).is_some_and(|f| f.blocking));
    assert!(by(Kind::LabelInconsistent).is_some_and(|f| !f.blocking));
}

#[test]
fn the_card_issuers_questions_are_unknown_info() {
    let mut lost = page(
        "/card/lost",
        "Lost your card? — Northwind Card Services",
        "Lost your card?\nFull name\nDate of birth\nCard number\nCredit limit\nContinue",
    );
    let postcode = Field {
        name: "Postcode".into(),
        name_source: NameSource::Placeholder,
        placeholder: "Postcode".into(),
        label_text: String::new(),
        ..field("")
    };
    lost.fields = vec![
        field("Full name"),
        typed("Date of birth", "date", "bday"),
        postcode,
        required(field("Card number")),
        required(field("Credit limit")),
    ];
    lost.buttons = vec![button("Continue")];
    lost.links = chrome("card");
    let mut refused = lost.clone();
    refused.text = format!(
        "{}\nPlease enter your card number and credit limit to continue.",
        lost.text
    );
    let t = trace(
        "card-lost-card",
        &["Full name", "Date of birth", "Postcode", "Email"],
        vec![
            open(1, lost.clone()),
            fill(
                2,
                &lost,
                &[
                    (0, &["Full name"], false),
                    (1, &["Date of birth"], false),
                    (2, &["Postcode"], false),
                    (3, &[], true),
                    (4, &[], true),
                ],
            ),
            click(3, "Continue", refused.clone()),
            failed_expect(4, "We have blocked your card", refused),
        ],
    );
    let found = audit(&[t]);
    assert_eq!(
        kinds(&found),
        [
            (
                Kind::LabelMissing,
                "input labelled \"Postcode\"".to_string()
            ),
            (
                Kind::UnknownInfo,
                "input labelled \"Card number\"".to_string()
            ),
            (
                Kind::UnknownInfo,
                "input labelled \"Credit limit\"".to_string()
            ),
            (
                Kind::JourneyBlocked,
                "expect text \"We have blocked your card\"".to_string()
            ),
        ],
        "{found:#?}"
    );
}

#[test]
fn the_clean_portal_has_no_findings() {
    let mut login = page(
        "/clean/login",
        "Sign in — Riverside Library",
        "Riverside Library\nHome\nCatalogue\nHelp\nSign in to your account\nEnter your library card number and PIN, then click Sign in.\nLibrary card number\nPIN\nSign in\nForgot your PIN?\nNew member? Join the library\nSearch the catalogue\nContact us\nCall us on 020 7123 4567",
    );
    let mut card = typed("Library card number", "text", "username");
    card.pattern = "\\d{14}".into();
    card.required = true;
    let mut pin = typed("PIN", "password", "current-password");
    pin.pattern = "[0-9]{4}".into();
    pin.required = true;
    let mut search = typed("Search the catalogue", "search", "off");
    search.form = Some(1);
    search.required = true;
    login.fields = vec![card, pin, search];
    login.buttons = vec![button("Sign in"), {
        let mut b = button("Search");
        b.form = Some(1);
        b
    }];
    login.links = chrome("clean");
    login.links.extend([
        link("Catalogue", "/clean/catalogue", "nav"),
        link("Forgot your PIN?", "/clean/forgot", "main"),
        link("Join the library", "/clean/join", "main"),
        link("Contact us", "/clean/contact", "footer"),
        Link {
            text: "020 7123 4567".into(),
            href: "tel:+442071234567".into(),
            region: "footer".into(),
            visible: true,
            ..Link::default()
        },
    ]);
    let mut account = page(
        "/clean/account",
        "Your account — Riverside Library",
        "Riverside Library\nWelcome back, Pat\nYou have 2 loans.\nRenew all\nMy loans\nLog out\nQuestions? Call us on 020 7123 4567.",
    );
    account.buttons = vec![button("Renew all"), button("Log out")];
    account.links = chrome("clean");
    account.links.push(link("My loans", "/clean/loans", "main"));
    let t = trace(
        "clean-library-login",
        &["Library card number", "PIN"],
        vec![
            open(1, login.clone()),
            fill(
                2,
                &login,
                &[(0, &["Library card number"], false), (1, &["PIN"], false)],
            ),
            click(3, "Sign in", account.clone()),
            crate::trace::StepTrace {
                index: 4,
                action: "expect text \"Welcome back\"".into(),
                kind: crate::trace::StepKind::Expect,
                page: Some(account),
                ..Default::default()
            },
        ],
    );
    let found = audit(&[t]);
    assert!(found.is_empty(), "{found:#?}");
}

/// Django's own auth forms as Chromium names them (see bench/realworld/django): sign up,
/// log in, ask for a password reset. A third-party portal done right: nothing to report.
#[test]
fn djangos_auth_forms_have_no_findings() {
    let django = |path: &str, title: &str, text: &str| {
        let mut p = page(path, &format!("{title} | Example"), text);
        p.links = vec![
            link("Home", "/", "nav"),
            link("Log in", "/accounts/login/", "nav"),
            link("Sign up", "/accounts/signup/", "nav"),
        ];
        p
    };
    let mut signup = django(
        "/accounts/signup/",
        "Sign up",
        "Home Log in Sign up\nSign up\nUsername:\nRequired. 150 characters or fewer. Letters, digits and @/./+/-/_ only.\nPassword:\nYour password can’t be too similar to your other personal information.\nYour password must contain at least 8 characters.\nPassword confirmation:\nEnter the same password as before, for verification.\nSign up",
    );
    signup.fields = vec![
        required(typed("Username:", "text", "username")),
        required(typed("Password:", "password", "new-password")),
        required(typed("Password confirmation:", "password", "new-password")),
    ];
    signup.buttons = vec![button("Sign up")];
    let mut login = django(
        "/accounts/login/",
        "Log in",
        "Home Log in Sign up\nLog in\nUsername:\nPassword:\nLog in\nForgotten your password?",
    );
    login.fields = vec![
        required(typed("Username:", "text", "username")),
        required(typed("Password:", "password", "current-password")),
    ];
    login.buttons = vec![button("Log in")];
    login.links.push(link(
        "Forgotten your password?",
        "/accounts/password_reset/",
        "main",
    ));
    let mut home = django("/", "Home", "Home Log out\nWelcome, pat.doe");
    home.links.truncate(1);
    home.buttons = vec![button("Log out")];
    let mut reset = page(
        "/accounts/password_reset/",
        "Password reset | Django site admin",
        "Skip to main content\nDjango administration\nHome › Password reset\nForgotten your password? Enter your email address below, and we’ll email instructions for setting a new one.\nEmail address:\nReset my password",
    );
    reset.fields = vec![required(typed("Email address:", "email", "email"))];
    reset.buttons = vec![
        button("Toggle theme (current theme: auto)"),
        button("Reset my password"),
    ];
    reset.links = vec![
        link(
            "Skip to main content",
            "/accounts/password_reset/#content-start",
            "",
        ),
        link("Home", "/admin/", "nav"),
    ];
    let mut sent = reset.clone();
    sent.url = format!("{BASE}/accounts/password_reset/done/");
    sent.title = "Password reset sent | Django site admin".into();
    sent.fields.clear();
    sent.buttons.truncate(1);
    sent.text = "Skip to main content\nDjango administration\nHome › Password reset\nPassword reset sent\nWe’ve emailed you instructions for setting your password, if an account exists with the email you entered. You should receive them shortly.\nIf you don’t receive an email, please make sure you’ve entered the address you registered with, and check your spam folder.".into();

    let first = trace(
        "django-signup-login",
        &["Username", "Password"],
        vec![
            open(1, signup.clone()),
            fill(
                2,
                &signup,
                &[
                    (0, &["Username"], false),
                    (1, &["Password"], false),
                    (2, &["Password"], false),
                ],
            ),
            click(3, "Sign up", login.clone()),
            fill(
                4,
                &login,
                &[(0, &["Username"], false), (1, &["Password"], false)],
            ),
            click(5, "Log in", home),
        ],
    );
    let recovery = trace(
        "django-password-reset",
        &["Email"],
        vec![
            open(1, login.clone()),
            click(2, "Forgotten your password?", reset.clone()),
            fill(3, &reset, &[(0, &["Email"], false)]),
            click(4, "Reset my password", sent),
        ],
    );
    let found = audit(&[first, recovery]);
    assert!(found.is_empty(), "{found:#?}");
}
