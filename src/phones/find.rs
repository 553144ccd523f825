//! Finding phone numbers in free text and `tel:` links, and reading what they dial.
//!
//! Visible text is full of digit runs that are not phone numbers: dates, prices, order and
//! reference numbers, PINs, postcodes, times, years, versions. A run is taken for a phone
//! number only by its shape (groups, brackets, `+`, an extension, vanity letters) and the
//! words before it ("Call us", "Order #"); only then does libphonenumber's metadata (the
//! `phonenumber` crate) say whether the number exists in its region. Nothing here says
//! whether a number is answered — that is the directory's and the lookup's job — and
//! nothing here panics on any text.

use std::ops::Range;
use std::sync::LazyLock;

use phonenumber::{Mode, Type, country};
use regex::Regex;
use serde::{Deserialize, Serialize};

/// The region used when neither `nocall.yaml` nor the page says one.
pub(crate) const DEFAULT_REGION: &str = "US";

/// A phone number found in text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FoundPhone {
    /// As written, extension included.
    pub raw: String,
    /// E.164 form without the extension (`+442079460000`). For a number that is not valid
    /// this is the best reading of what was written: the country code and the digits.
    pub e164: String,
    /// libphonenumber knows the number's range for its country.
    pub valid: bool,
    /// In a range kept for drama and fiction (NANP 555, Ofcom's drama ranges, ACMA's).
    pub fiction: bool,
    /// Byte range of `raw` in the text searched.
    pub span: Range<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Why the number cannot be dialled as written; `None` when it is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// What a written number dials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reading {
    pub e164: String,
    pub valid: bool,
    pub fiction: bool,
    pub problem: Option<String>,
}

/// The phone numbers a person would read in `text`, each once per place it is written, in
/// order. `region` (ISO 3166, `GB`) applies to numbers written without a country code;
/// an unknown region falls back to [`DEFAULT_REGION`].
pub(crate) fn find_in_text(text: &str, region: &str) -> Vec<FoundPhone> {
    find(text, region, false)
}

/// Like [`find_in_text`], for text already known to be about a phone number (a `tel:`
/// link's own text): numbers that are not valid are kept even without words such as
/// "call" before them.
pub(crate) fn find_in_phone_text(text: &str, region: &str) -> Vec<FoundPhone> {
    find(text, region, true)
}

/// Reads one written number (`+44 (0)20 7946 0000`, `1-800-FLOWERS`, `0800 123`) in
/// `region`. Letters are read as a phone keypad does.
pub(crate) fn read_number(written: &str, region: &str) -> Reading {
    let id = region_id(region);
    let plus = written.trim_start().starts_with('+');
    // `+44 (0)20…`: the bracketed trunk prefix is not dialled from abroad.
    let cleaned = if plus {
        written.replace("(0)", "")
    } else {
        written.to_string()
    };
    let digits: String = cleaned.chars().filter_map(keypad).collect();
    let dialled = if plus {
        format!("+{digits}")
    } else {
        digits.clone()
    };
    // The metadata parser has panicked on odd input in the past; a web page must never be
    // able to take the run down with it.
    let parsed = std::panic::catch_unwind(|| {
        phonenumber::parse(Some(id), &dialled).map(|n| {
            let e164 = n.format().mode(Mode::E164).to_string();
            let nsn_len = n.national().to_string().len();
            (e164, n.is_valid(), n.code().value(), nsn_len)
        })
    });
    let (e164, valid, problem) = match parsed {
        Ok(Ok((e164, true, _, _))) => (e164, true, None),
        Ok(Ok((e164, false, code, nsn_len))) => {
            let why = length_problem(code, nsn_len, id)
                .unwrap_or_else(|| "no number is allocated in that range".to_string());
            (e164, false, Some(why))
        }
        Ok(Err(e)) => {
            let why = match e {
                phonenumber::ParseError::TooLong => "too long to be a phone number".to_string(),
                phonenumber::ParseError::InvalidCountryCode => {
                    "no country has that calling code".to_string()
                }
                _ => "too short to be a phone number".to_string(),
            };
            (best_effort_e164(&digits, plus, id), false, Some(why))
        }
        Err(_) => (
            best_effort_e164(&digits, plus, id),
            false,
            Some("not a phone number".to_string()),
        ),
    };
    Reading {
        fiction: is_fiction(&e164),
        e164,
        valid,
        problem,
    }
}

/// Why a `tel:` link cannot be dialled at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TelError {
    #[error("it is not a tel: URI")]
    NotTel,
    #[error("it has no number in it")]
    Empty,
    #[error(
        "it contains `{0}`, which a phone cannot dial (RFC 3966 allows digits and - . ( ) only)"
    )]
    BadCharacter(char),
    #[error("`{0}` is too short to be a phone number")]
    TooShort(String),
}

/// The number a `tel:` URI dials. Local numbers (no `+`, no `phone-context`) are read in
/// `region`, as the phone that dials them would; an `ext=` parameter becomes the extension.
pub(crate) fn parse_tel(href: &str, region: &str) -> Result<FoundPhone, TelError> {
    let href = href.trim();
    let rest = href
        .get(..4)
        .filter(|s| s.eq_ignore_ascii_case("tel:"))
        .and_then(|_| href.get(4..))
        .ok_or(TelError::NotTel)?;
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8_lossy()
        .into_owned();
    let mut parts = decoded.split(';');
    let number = parts.next().unwrap_or_default().trim().to_string();
    let mut context = None;
    let mut extension = None;
    for param in parts {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        match key.trim().to_ascii_lowercase().as_str() {
            "phone-context" => context = Some(value.trim().to_string()),
            "ext" => extension = Some(value.trim().to_string()).filter(|e| !e.is_empty()),
            _ => {}
        }
    }
    if number.is_empty() {
        return Err(TelError::Empty);
    }
    for (i, c) in number.chars().enumerate() {
        let allowed =
            c.is_ascii_digit() || matches!(c, '-' | '.' | '(' | ')' | ' ') || (c == '+' && i == 0);
        if !allowed {
            return Err(TelError::BadCharacter(c));
        }
    }
    let digit_count = number.chars().filter(char::is_ascii_digit).count();
    if digit_count < 3 {
        return Err(TelError::TooShort(number));
    }
    let written = match context.as_deref() {
        Some(cc) if !number.starts_with('+') && cc.starts_with('+') => format!("{cc}{number}"),
        _ => number.clone(),
    };
    let reading = read_number(&written, region);
    Ok(FoundPhone {
        raw: number,
        e164: reading.e164,
        valid: reading.valid,
        fiction: reading.fiction,
        span: 0..href.len(),
        extension,
        problem: reading.problem,
    })
}

/// The region numbers on a page are read in: `nocall.yaml`'s `phones.region`, else the
/// page's `lang` (`en-GB` → `GB`, `de` → `DE`), else [`DEFAULT_REGION`].
pub(crate) fn region_for(configured: Option<&str>, lang: &str) -> String {
    region_hint(configured, lang).unwrap_or_else(|| DEFAULT_REGION.to_string())
}

/// Like [`region_for`], but `None` when neither the configuration nor `lang` names a
/// region, so the caller may look for other hints (the country of the page's `tel:` links).
pub(crate) fn region_hint(configured: Option<&str>, lang: &str) -> Option<String> {
    if let Some(r) = configured.map(str::trim).filter(|r| is_region(r)) {
        return Some(r.to_ascii_uppercase());
    }
    let mut subtags = lang.split(['-', '_']).map(str::trim);
    let language = subtags.next().unwrap_or_default().to_ascii_lowercase();
    // `zh-Hant-TW`: the region is the first two-letter subtag after the language.
    if let Some(r) = subtags.find(|s| s.len() == 2 && is_region(s)) {
        return Some(r.to_ascii_uppercase());
    }
    // A bare language names a country only where one country speaks it mostly.
    let by_language = match language.as_str() {
        "de" => "DE",
        "fr" => "FR",
        "it" => "IT",
        "nl" => "NL",
        "ja" => "JP",
        "ko" => "KR",
        "sv" => "SE",
        "da" => "DK",
        "nb" | "nn" | "no" => "NO",
        "fi" => "FI",
        "pl" => "PL",
        "cs" => "CZ",
        "el" => "GR",
        "hu" => "HU",
        "tr" => "TR",
        "he" => "IL",
        _ => return None,
    };
    Some(by_language.to_string())
}

/// The region (ISO 3166) an E.164 number belongs to, when the metadata knows it.
pub(crate) fn region_of(e164: &str) -> Option<String> {
    let parsed = std::panic::catch_unwind(|| {
        phonenumber::parse(None, e164)
            .ok()
            .and_then(|n| n.country().id())
            .map(|id| id.as_ref().to_string())
    });
    parsed.ok().flatten()
}

fn is_region(s: &str) -> bool {
    s.len() == 2 && s.to_ascii_uppercase().parse::<country::Id>().is_ok()
}

fn region_id(region: &str) -> country::Id {
    region
        .trim()
        .to_ascii_uppercase()
        .parse::<country::Id>()
        .unwrap_or(country::Id::US)
}

/// A phone keypad's digit for a character; `None` for separators.
fn keypad(c: char) -> Option<char> {
    let d = match c.to_ascii_uppercase() {
        d @ '0'..='9' => d,
        'A'..='C' => '2',
        'D'..='F' => '3',
        'G'..='I' => '4',
        'J'..='L' => '5',
        'M'..='O' => '6',
        'P'..='S' => '7',
        'T'..='V' => '8',
        'W'..='Z' => '9',
        _ => return None,
    };
    Some(d)
}

/// `+` and the digits as written, or the region's country code and the digits without the
/// national prefix, so an invalid number still has one stable name.
fn best_effort_e164(digits: &str, plus: bool, id: country::Id) -> String {
    if plus {
        return format!("+{digits}");
    }
    match phonenumber::metadata::DATABASE.by_id(id.as_ref()) {
        Some(meta) => {
            let national = meta
                .national_prefix()
                .and_then(|p| digits.strip_prefix(p))
                .unwrap_or(digits);
            format!("+{}{national}", meta.country_code())
        }
        None => format!("+{digits}"),
    }
}

/// "too short: 7 digits where numbers with +1 have 10", when the length alone is wrong.
fn length_problem(code: u16, nsn_len: usize, id: country::Id) -> Option<String> {
    let metas = phonenumber::metadata::DATABASE.by_code(&code)?;
    // The region the number was read in, else the code's main country: the small
    // territories sharing +1 have their own odd lengths.
    let meta = metas
        .iter()
        .find(|m| m.id() == id.as_ref())
        .or_else(|| metas.iter().find(|m| m.is_main_country_for_code()))
        .or_else(|| metas.first())?;
    // The crate's metadata often leaves the possible lengths empty; the example number of
    // each kind is a fair stand-in then.
    let kinds = [
        Type::FixedLine,
        Type::Mobile,
        Type::TollFree,
        Type::PremiumRate,
        Type::SharedCost,
        Type::PersonalNumber,
        Type::Voip,
        Type::Pager,
        Type::Uan,
        Type::Voicemail,
    ];
    let lengths: Vec<usize> = kinds
        .iter()
        .filter_map(|&k| meta.descriptors().get(k))
        .flat_map(|d| {
            let listed: Vec<usize> = d
                .possible_length()
                .iter()
                .map(|&l| usize::from(l))
                .collect();
            if listed.is_empty() {
                d.example().map(str::len).into_iter().collect()
            } else {
                listed
            }
        })
        .collect();
    let min = lengths.iter().copied().min()?;
    let max = lengths.iter().copied().max()?;
    let expected = if min == max {
        format!("{min}")
    } else {
        format!("{min} to {max}")
    };
    if nsn_len < min {
        Some(format!(
            "too short: {nsn_len} digits where numbers with +{code} have {expected}"
        ))
    } else if nsn_len > max {
        Some(format!(
            "too long: {nsn_len} digits where numbers with +{code} have {expected}"
        ))
    } else {
        None
    }
}

/// Ofcom's numbers for TV and radio drama (national significant numbers; each range is the
/// prefix followed by three digits).
const OFCOM_DRAMA: [&str; 18] = [
    "1134960", "1144960", "1154960", "1174960", "1214960", "1314960", "1414960", "1514960",
    "1614960", "1914980", "2079460", "2890180", "2896496", "2920180", "1632960", "7700900",
    "8081570", "9098790",
];

/// Whether a number sits in a range kept for fiction, so no one answers it.
pub(crate) fn is_fiction(e164: &str) -> bool {
    fiction_range(e164).is_some()
}

/// The range kept for fiction a number sits in, named for a message: NANP exchange 555
/// (555-0100..0199 reserved, the rest by long convention; 555-1212 is directory
/// assistance), Ofcom's drama ranges, ACMA's 5550/7010 landline ranges.
pub(crate) fn fiction_range(e164: &str) -> Option<&'static str> {
    let digits = e164.strip_prefix('+')?;
    if let Some(nsn) = digits.strip_prefix('1') {
        let in_555 = match nsn.len() {
            10 => nsn.get(3..6) == Some("555") && nsn.get(6..) != Some("1212"),
            7 => nsn.starts_with("555") && nsn != "5551212",
            _ => false,
        };
        in_555.then_some("the North American 555 range kept for films and fiction")
    } else if let Some(nsn) = digits.strip_prefix("44") {
        let drama = nsn.len() == 10
            && (OFCOM_DRAMA.iter().any(|p| nsn.starts_with(p)) || nsn.starts_with("306999"));
        drama.then_some("an Ofcom range kept for TV and radio drama")
    } else if let Some(nsn) = digits.strip_prefix("61") {
        let drama = nsn.len() == 9
            && matches!(nsn.get(..1), Some("2" | "3" | "7" | "8"))
            && matches!(nsn.get(1..5), Some("5550" | "7010"));
        drama.then_some("an ACMA range kept for fiction")
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------
// The candidate scanner.

/// One group of a candidate: digits, or vanity letters.
#[derive(Debug, Clone)]
struct Piece {
    range: Range<usize>,
    letters: bool,
}

/// A run of text shaped like a phone number, before judging it.
#[derive(Debug, Clone)]
struct Candidate {
    /// Byte offset of the first character (`+`, `(` or a digit).
    start: usize,
    plus: bool,
    pieces: Vec<Piece>,
}

/// No phone number has more groups: a longer run is a calendar row or a table of figures
/// (and judging it would cost time quadratic in its length).
const MAX_PIECES: usize = 10;

/// Characters that may sit between the groups of a number.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}'
            | '\u{202f}'
            | '\t'
            | '-'
            | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '.'
            | '/'
            | '('
            | ')'
    )
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\t')
}

struct Scanner<'t> {
    text: &'t str,
    chars: Vec<(usize, char)>,
}

impl<'t> Scanner<'t> {
    fn new(text: &'t str) -> Self {
        Scanner {
            text,
            chars: text.char_indices().collect(),
        }
    }

    fn ch(&self, i: usize) -> Option<char> {
        self.chars.get(i).map(|&(_, c)| c)
    }

    /// Byte offset of char `i` (the text's end past the last one).
    fn at(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.text.len(), |&(b, _)| b)
    }

    fn digit(&self, i: usize) -> bool {
        self.ch(i).is_some_and(|c| c.is_ascii_digit())
    }

    /// Whether a number may start at char `i`: not inside a word, a price, a reference or
    /// the second half of `10:30` / `12/05`.
    fn may_start(&self, i: usize) -> bool {
        let Some(prev) = i.checked_sub(1).and_then(|p| self.ch(p)) else {
            return true;
        };
        if prev.is_alphanumeric() || "_$£€¥₹₩₽¢#№@&=+*".contains(prev) {
            return false;
        }
        // `10:30`, `12/05`, `INV-2024`, `REF/1234`: the middle of something else.
        let before_prev = i.checked_sub(2).and_then(|p| self.ch(p));
        let joined = match before_prev {
            Some(c) if c.is_ascii_digit() => {
                matches!(prev, '.' | ',' | ':' | '-' | '/' | '\u{2013}')
            }
            Some(c) if c.is_alphanumeric() => matches!(prev, '.' | '-' | '/' | '_'),
            _ => false,
        };
        !joined
    }

    /// The candidate starting at char `i`, and the char index it ends at.
    fn candidate(&self, i0: usize) -> Option<(Candidate, usize)> {
        if !self.may_start(i0) {
            return None;
        }
        let mut i = i0;
        let mut plus = false;
        if self.ch(i) == Some('(') {
            i += 1;
        }
        if self.ch(i) == Some('+') {
            plus = true;
            i += 1;
            if self.ch(i).is_some_and(is_space) {
                i += 1;
            }
        }
        if !self.digit(i) {
            return None;
        }
        let mut pieces: Vec<Piece> = Vec::new();
        let mut digits = 0usize;
        loop {
            let letters = !self.digit(i);
            let s = i;
            if letters {
                while self.ch(i).is_some_and(|c| c.is_ascii_uppercase()) {
                    i += 1;
                }
                // Vanity letters are a whole upper-case word: `FLOWERS`, never `Flowers`.
                if i - s < 2 || self.ch(i).is_some_and(char::is_alphanumeric) {
                    break;
                }
            } else {
                while self.digit(i) {
                    i += 1;
                }
                digits += i - s;
            }
            pieces.push(Piece {
                range: self.at(s)..self.at(i),
                letters,
            });
            // A separator run: at most three characters, never spaces around a slash
            // (`0800 123 4567 / 0800 765 4321` is two numbers).
            let mut j = i;
            let (mut space, mut slash, mut bracket) = (false, false, false);
            while j - i < 3 && self.ch(j).is_some_and(is_separator) {
                match self.ch(j) {
                    Some(c) if is_space(c) => space = true,
                    Some('/') => slash = true,
                    Some('(' | ')') => bracket = true,
                    _ => {}
                }
                j += 1;
            }
            if j == i || (space && slash) {
                break;
            }
            match self.ch(j) {
                Some(c) if c.is_ascii_digit() => i = j,
                // Letters carry on a number only while its digits alone are too few.
                Some(c) if c.is_ascii_uppercase() && digits < 7 && !slash && !bracket => i = j,
                _ => break,
            }
        }
        // A trailing letter group that was not a word was never pushed; `i` may have moved
        // past a separator into it, so the end is the last piece's end.
        let end_byte = pieces.last().map(|p| p.range.end)?;
        let end = self.chars.partition_point(|&(b, _)| b < end_byte);
        Some((
            Candidate {
                start: self.at(i0),
                plus,
                pieces,
            },
            end,
        ))
    }
}

static POSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:\b(?:call(?:ing)?|phone|telephone|tel|ring|dial|helpline|hotline|freephone|toll[- ]?free|fax|mobile|cell|contact|support|whatsapp|sms|text us|reach us|help ?desk|service desk|switchboard|t[ée]l[ée]phone|t[ée]l|telefon|tel[ée]fono|llame|llamar|appelez|anrufen|chiamare|bellen|telefoon)\b|[☎📞✆])",
    )
    .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

/// Words that, right before a run of digits, make it something other than a phone number.
static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:order|invoice|account|acct|reference|ref|case|ticket|tracking|confirmation|booking|reservation|member(?:ship)?|customer|client|id|pin|passcode|password|code|zip|postcode|post ?code|postal|serial|sku|isbn|issn|iban|bic|swift|sort ?code|card|receipt|transaction|policy|claim|voucher|coupon|vat|registration|reg|licen[cs]e|model|part|item|product|patent|meter|nhs|ssn|tax|ein|routing|batch|lot|version|build|parcel|shipment|bill|statement|user(?:name)?|login|owner|conference|access|room|suite|flight)(?:\s*(?:number|no\.?|nr\.?|num\.?|id|#|code))?\s*(?:is|was|:|#|=|-|–|\.)*\s*$",
    )
    .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

/// `<word> number:` right before the digits; the word says whose number it is.
static WHOSE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\p{L}+)\s+(?:number|no\.?|nr\.?|#)\s*[:#=.]?\s*$")
        .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

const PHONE_WORDS: [&str; 18] = [
    "phone",
    "telephone",
    "tel",
    "contact",
    "support",
    "helpline",
    "hotline",
    "fax",
    "mobile",
    "cell",
    "office",
    "direct",
    "freephone",
    "emergency",
    "service",
    "desk",
    "line",
    "switchboard",
];

/// Currency, `#` or `No.` right before the digits.
static MONEY_OR_REF_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:[$£€¥₹₩₽¢#№]|\b(?:usd|eur|gbp|chf|aud|cad|inr|jpy|rs|no|nr|num)\.?)\s?$")
        .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

/// A currency or unit right after the digits.
static MONEY_OR_UNIT_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[ \u{a0}]?(?:[€$£¥%‰°]|(?:eur|usd|gbp|chf|dollars?|euros?|pounds?|kr|km|kg|mb|gb|kb|ms|px|points?|pts|users?|people|items?|copies|views|downloads|miles?)\b)")
        .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

/// Shapes of digit runs that are something else: dates, year ranges, IP addresses, ZIP+4
/// codes, card numbers.
static NOT_A_PHONE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"^\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}$",
        r"^\d{1,2}[-./ ]\d{1,2}[-./ ](?:\d{2}|\d{4})$",
        r"^(?:1[89]|20)\d{2}\s*[-–/]\s*(?:1[89]|20)\d{2}$",
        r"^\d{1,3}(?:\.\d{1,3}){3}$",
        r"^\d{5}-\d{4}$",
        r"^\d{4}(?:[ -]\d{4}){3}$",
    ]
    .iter()
    .map(|p| Regex::new(p).unwrap_or_else(|e| unreachable!("fixed pattern: {e}")))
    .collect()
});

/// An extension written after a number: `ext. 204`, `x12`, `extension 3`, `#5`.
static EXTENSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[ \t\u{a0}]*,?[ \t\u{a0}]*(?i:ext(?:ension)?\.?|x|#)[ \t\u{a0}:.]*(\d{1,6})\b")
        .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

/// What the words before a candidate say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Phone,
    Neutral,
    NotPhone,
}

/// Up to 60 characters before `start` on its line, and the line before when it reads as
/// the number's label (`Call us:`, a short `Phone` heading above it).
fn window_before(text: &str, start: usize) -> &str {
    let before = text.get(..start).unwrap_or_default();
    let from = before.char_indices().rev().nth(59).map_or(0, |(b, _)| b);
    let window = before.get(from..).unwrap_or_default();
    let Some(last_break) = window.rfind('\n') else {
        return window;
    };
    let current = window.get(last_break + 1..).unwrap_or_default();
    let previous_start = window
        .get(..last_break)
        .and_then(|w| w.rfind('\n'))
        .map_or(0, |b| b + 1);
    let previous = window
        .get(previous_start..last_break)
        .unwrap_or_default()
        .trim();
    let is_label = previous.ends_with(':') || previous.chars().count() <= 30;
    if current.trim().is_empty() && is_label {
        window.get(previous_start..).unwrap_or_default()
    } else {
        current
    }
}

fn context(text: &str, start: usize) -> Context {
    let window = window_before(text, start);
    if MONEY_OR_REF_BEFORE.is_match(window) || NEGATIVE.is_match(window) {
        return Context::NotPhone;
    }
    if let Some(whose) = WHOSE_NUMBER.captures(window).and_then(|c| c.get(1)) {
        let word = whose.as_str().to_lowercase();
        return if PHONE_WORDS.contains(&word.as_str()) {
            Context::Phone
        } else {
            Context::NotPhone
        };
    }
    if POSITIVE.is_match(window) {
        Context::Phone
    } else {
        Context::Neutral
    }
}

fn find(text: &str, region: &str, assume_phone: bool) -> Vec<FoundPhone> {
    let scanner = Scanner::new(text);
    let mut found = Vec::new();
    let mut i = 0;
    while i < scanner.chars.len() {
        let starts = matches!(scanner.ch(i), Some('+' | '(')) || scanner.digit(i);
        let Some((cand, end)) = starts.then(|| scanner.candidate(i)).flatten() else {
            i += 1;
            continue;
        };
        if let Some(phone) = pick_reading(text, &cand, region, assume_phone) {
            found.push(phone);
        }
        i = end.max(i + 1);
    }
    found
}

/// The part of `text` that speaks for the number at `at`: its own line (in a page's
/// visible text, its element, list item or table row), with a short label line ending in
/// `:` right above it; narrowed to its sentence (or `;`/`|`/`•` clause) when other numbers
/// (`others`, spans in the same text) share the line, and to its side of the last comma
/// between it and a neighbour that shares the sentence. Hours or promises outside it belong to another
/// entry ("Billing …, Mon–Fri 8–6" above "Emergencies, 24 hours").
pub(crate) fn own_part(text: &str, at: Range<usize>, others: &[Range<usize>]) -> Range<usize> {
    let Some(before) = text.get(..at.start) else {
        return at;
    };
    let Some(after) = text.get(at.end..) else {
        return at;
    };
    let line_start = before.rfind('\n').map_or(0, |b| b + 1);
    let line_end = after.find('\n').map_or(text.len(), |b| at.end + b);
    let others: Vec<&Range<usize>> = others
        .iter()
        .filter(|o| o.end <= at.start || o.start >= at.end)
        .collect();
    let within = |a: usize, b: usize| others.iter().any(|o| o.start >= a && o.end <= b);
    let mut start = line_start;
    let mut end = line_end;
    if within(line_start, line_end) {
        // Another number on the line: the number's sentence or clause only.
        let head = text.get(line_start..at.start).unwrap_or_default();
        start = sentence_ends(head)
            .last()
            .map_or(line_start, |&b| line_start + b);
        let tail = text.get(at.end..line_end).unwrap_or_default();
        end = sentence_ends(tail)
            .first()
            .map_or(line_end, |&b| at.end + b);
        // Still another number in the sentence: the stretch between two numbers is cut
        // at its last comma ("X, weekdays, or Y, day and night").
        let cut = |a: usize, b: usize| {
            text.get(a..b)
                .and_then(|s| s.rfind(','))
                .map_or(b, |c| a + c + 1)
        };
        for o in &others {
            if o.end <= at.start && o.end > start {
                start = cut(o.end, at.start);
            }
            if o.start >= at.end && o.start < end {
                end = cut(at.end, o.start);
            }
        }
    } else if text
        .get(line_start..at.start)
        .is_some_and(|h| h.trim().is_empty())
    {
        // A label line right above a number alone on its line ("Emergencies, 24 hours:").
        let above = text.get(..line_start.saturating_sub(1)).unwrap_or_default();
        let above_start = above.rfind('\n').map_or(0, |b| b + 1);
        let label = above.get(above_start..).unwrap_or_default().trim();
        if label.ends_with(':') && label.chars().count() <= 80 && !within(above_start, line_start) {
            start = above_start;
        }
    }
    start..end
}

/// Byte offsets just past each sentence or clause end in `s`: `. `, `! `, `? ` before a
/// capital or a digit, and `;`, `|`, `•`, `·`.
fn sentence_ends(s: &str) -> Vec<usize> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut ends = Vec::new();
    for (k, &(b, c)) in chars.iter().enumerate() {
        let next_len = c.len_utf8();
        match c {
            ';' | '|' | '•' | '·' => ends.push(b + next_len),
            '.' | '!' | '?' => {
                let space = chars.get(k + 1).is_some_and(|&(_, n)| n.is_whitespace());
                let starts = chars
                    .get(k + 2)
                    .is_some_and(|&(_, n)| n.is_uppercase() || n.is_ascii_digit() || n == '(');
                if space && starts {
                    ends.push(b + next_len);
                }
            }
            _ => {}
        }
    }
    ends
}

/// One way of reading part of a candidate as a number.
struct Choice {
    span: Range<usize>,
    /// Written as only phone numbers are: with `+` or an area code in brackets.
    strong: bool,
    reading: Reading,
}

/// Picks the reading of a candidate: the whole of it when that is a number; else the
/// longest valid part split at spaces (`0800 123 4567 24/7`); else the whole as an invalid
/// number when the words around it say it is one.
fn pick_reading(
    text: &str,
    cand: &Candidate,
    region: &str,
    assume_phone: bool,
) -> Option<FoundPhone> {
    let n = cand.pieces.len();
    if n > MAX_PIECES {
        return None;
    }
    let ctx = if assume_phone {
        Context::Phone
    } else {
        context(text, cand.start)
    };
    if ctx == Context::NotPhone && !cand.plus {
        return None;
    }
    let whole = shaped(text, cand, 0, n, ctx, region);
    let mut best = whole.as_ref().filter(|c| c.reading.valid).map(|_| (0, n));
    if best.is_none() {
        let mut parts: Vec<(usize, usize)> = Vec::new();
        for a in 0..n {
            for b in (a + 1)..=n {
                if (a, b) != (0, n)
                    && (7..=15).contains(&digits_in(cand, a, b))
                    && split_at_space(text, cand, a)
                    && split_at_space(text, cand, b)
                {
                    parts.push((a, b));
                }
            }
        }
        // Longest first; on a tie the earliest.
        parts.sort_by_key(|&(a, b)| (std::cmp::Reverse(digits_in(cand, a, b)), a));
        best = parts
            .into_iter()
            .find(|&(a, b)| shaped(text, cand, a, b, ctx, region).is_some_and(|c| c.reading.valid));
    }
    let choice = match best {
        Some((0, b)) if b == n => whole?,
        Some((a, b)) => shaped(text, cand, a, b, ctx, region)?,
        None => {
            let whole = whole?;
            // An invalid number is reported only where the page says it is a phone number
            // or writes it as only phone numbers are written; otherwise it is some other
            // figure, and saying "invalid phone number" about it would be a false alarm.
            if !(whole.reading.fiction || ctx == Context::Phone || whole.strong) {
                return None;
            }
            whole
        }
    };
    let mut span = choice.span;
    let mut extension = None;
    if let Some(caps) = text.get(span.end..).and_then(|t| EXTENSION.captures(t))
        && let (Some(all), Some(ext)) = (caps.get(0), caps.get(1))
    {
        extension = Some(ext.as_str().to_string());
        span.end += all.end();
    }
    Some(FoundPhone {
        raw: text.get(span.clone()).unwrap_or_default().to_string(),
        e164: choice.reading.e164,
        valid: choice.reading.valid,
        fiction: choice.reading.fiction,
        span,
        extension,
        problem: choice.reading.problem,
    })
}

/// Whether the candidate may be cut before piece `k` (or after the last): the separator
/// there is white space only.
fn split_at_space(text: &str, cand: &Candidate, k: usize) -> bool {
    if k == 0 || k >= cand.pieces.len() {
        return true;
    }
    let (Some(prev), Some(next)) = (cand.pieces.get(k - 1), cand.pieces.get(k)) else {
        return false;
    };
    text.get(prev.range.end..next.range.start)
        .is_some_and(|s| !s.is_empty() && s.chars().all(is_space))
}

fn digits_in(cand: &Candidate, a: usize, b: usize) -> usize {
    cand.pieces
        .get(a..b)
        .unwrap_or_default()
        .iter()
        .map(|p| p.range.len())
        .sum()
}

/// Pieces `a..b` of the candidate read as a number, when their shape allows it.
fn shaped(
    text: &str,
    cand: &Candidate,
    a: usize,
    b: usize,
    ctx: Context,
    region: &str,
) -> Option<Choice> {
    let pieces = cand.pieces.get(a..b)?;
    let first = pieces.first()?;
    let last = pieces.last()?;
    let start = if a == 0 {
        cand.start
    } else {
        // Keep the `(` of `(800)` when the part starts at it.
        let open = first.range.start.checked_sub(1);
        match open.and_then(|o| text.get(o..first.range.start)) {
            Some("(") => first.range.start - 1,
            _ => first.range.start,
        }
    };
    let span = start..last.range.end;
    let raw = text.get(span.clone())?;
    let plus = cand.plus && a == 0;
    let bracketed = raw.starts_with('(');
    // Brackets must pair up: `(0800 123 4567` is a number inside a parenthesis.
    let (span, raw) = if raw.matches('(').count() != raw.matches(')').count() && bracketed {
        let span = (span.start + 1)..span.end;
        (span.clone(), text.get(span)?)
    } else {
        (span, raw)
    };
    let strong = plus || raw.starts_with('(');

    let lens: Vec<usize> = pieces.iter().map(|p| p.range.len()).collect();
    let mut written: String = String::new();
    if plus {
        written.push('+');
    }
    for (k, p) in pieces.iter().enumerate() {
        let piece = text.get(p.range.clone())?;
        // `+44 (0)20`: the bracketed 0 is not dialled.
        let trunk = plus
            && piece == "0"
            && text.get(..p.range.start).is_some_and(|t| t.ends_with('('))
            && text.get(p.range.end..).is_some_and(|t| t.starts_with(')'));
        if !trunk {
            if k > 0 {
                written.push(' ');
            }
            written.push_str(piece);
        }
    }
    let mut digits: String = written.chars().filter_map(keypad).collect();
    if pieces.iter().any(|p| p.letters) {
        digits = vanity(&digits, pieces)?;
        written = if plus {
            format!("+{digits}")
        } else {
            digits.clone()
        };
    }
    if !(7..=15).contains(&digits.len()) {
        return None;
    }
    // `1 2 3 4 5 6 7`: a row of a calendar or a list, not groups of a number.
    if lens.iter().filter(|&&l| l == 1).count() > 2 {
        return None;
    }
    if NOT_A_PHONE.iter().any(|r| r.is_match(raw)) {
        return None;
    }
    let after = text.get(span.end..).unwrap_or_default();
    if MONEY_OR_UNIT_AFTER.is_match(after) {
        return None;
    }
    let seps: Vec<&str> = pieces
        .windows(2)
        .filter_map(|w| match w {
            [x, y] => text.get(x.range.end..y.range.start),
            _ => None,
        })
        .collect();
    // Dotted numbers are short groups (`555.123.4567`, `01.23.45.67.89`); a long group
    // after a dot is a decimal or a version.
    if seps.iter().any(|s| s.contains('.')) {
        let first_ok = lens.first().is_some_and(|&l| (1..=4).contains(&l));
        let rest_ok = lens.iter().skip(1).all(|&l| (2..=4).contains(&l));
        let pair_ok = lens.len() != 2 || lens.iter().all(|&l| l >= 3);
        if !(first_ok && rest_ok && pair_ok) {
            return None;
        }
    }
    if !strong && ctx != Context::Phone {
        // One unbroken run of digits is an order number or an amount until the page says
        // otherwise.
        if pieces.len() == 1 {
            return None;
        }
        // `1 234 567`, `12.345.678`: thousands.
        let thousands = lens.len() >= 3
            && lens.first().is_some_and(|&l| (1..=3).contains(&l))
            && lens.iter().skip(1).all(|&l| l == 3)
            && !raw.starts_with('0');
        if thousands {
            return None;
        }
    }
    let reading = read_number(&written, region);
    Some(Choice {
        span,
        strong,
        reading,
    })
}

/// The digits of a vanity number (`1-800-FLOWERS`): only in the North American shape —
/// an optional 1, a three-digit area code, then seven digits or letters — and extra letters
/// past the seventh are not dialled (`1-800-CONTACTS`).
fn vanity(digits: &str, pieces: &[Piece]) -> Option<String> {
    let (one, core) = match digits.strip_prefix('1') {
        Some(rest) if rest.len() >= 10 => ("1", rest),
        _ => ("", digits),
    };
    let area = core.get(..3)?;
    if !area.starts_with(['2', '3', '4', '5', '6', '7', '8', '9']) {
        return None;
    }
    // The area code must be written in digits.
    let digits_before_letters: usize = pieces
        .iter()
        .take_while(|p| !p.letters)
        .map(|p| p.range.len())
        .sum();
    if digits_before_letters < one.len() + 3 {
        return None;
    }
    let letters: usize = pieces
        .iter()
        .filter(|p| p.letters)
        .map(|p| p.range.len())
        .sum();
    if letters < 3 || core.len() < 10 {
        return None;
    }
    Some(format!("{one}{}", core.get(..10)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (text, region, the E.164 numbers expected in it).
    const POSITIVES: &[(&str, &str, &[&str])] = &[
        // United States and Canada
        ("Call us at (212) 736-5000.", "US", &["+12127365000"]),
        ("Support: 212-736-5000", "US", &["+12127365000"]),
        ("Phone 212.736.5000", "US", &["+12127365000"]),
        ("Toll-free 1-800-275-2273 any day", "US", &["+18002752273"]),
        ("+1 650 253 0000", "US", &["+16502530000"]),
        ("+1-650-253-0000", "GB", &["+16502530000"]),
        (
            "Call 1 (650) 253-0000 ext. 204 for billing",
            "US",
            &["+16502530000"],
        ),
        ("Call 1-800-FLOWERS today", "US", &["+18003569377"]),
        ("Dial 1-800-GOT-JUNK for pickup", "US", &["+18004685865"]),
        ("Ring 1 800 CONTACTS", "US", &["+18002668228"]),
        ("Phone: 6502530000", "US", &["+16502530000"]),
        ("Toronto office (416) 979-2000", "CA", &["+14169792000"]),
        (
            "Questions? Call the IT desk on (415) 555-2671.",
            "US",
            &["+14155552671"],
        ),
        ("1-800-555-0199", "US", &["+18005550199"]),
        ("Call us: 0800 123", "US", &["+10800123"]),
        ("Call us:\n0800 123", "US", &["+10800123"]),
        ("Phone\n212 736 5000", "US", &["+12127365000"]),
        ("Tel. 802 443 7165", "US", &["+18024437165"]),
        ("Call 212-736-5000 x12", "US", &["+12127365000"]),
        ("Fax (212) 736-5001", "US", &["+12127365001"]),
        // United Kingdom
        ("Call us on 020 7946 0958", "GB", &["+442079460958"]),
        ("Helpline: 0800 123 4567", "GB", &["+448001234567"]),
        ("+44 (0)20 7946 0000", "GB", &["+442079460000"]),
        ("+44 20 7946 0000", "US", &["+442079460000"]),
        ("Tel: 0113 496 0123", "GB", &["+441134960123"]),
        ("Mobile 07700 900123", "GB", &["+447700900123"]),
        ("Call 01632 960 001 now", "GB", &["+441632960001"]),
        ("0345 600 1234", "GB", &["+443456001234"]),
        ("Call 0207-946-0000", "GB", &["+442079460000"]),
        ("Call us on 0800 123 4567, 24/7", "GB", &["+448001234567"]),
        ("Call us on 0800 123 4567 24/7", "GB", &["+448001234567"]),
        ("0044 20 7946 0000", "GB", &["+442079460000"]),
        // Germany, France, Netherlands, Italy, Spain
        ("Telefon: 030 901820", "DE", &["+4930901820"]),
        ("+49 30 901820", "DE", &["+4930901820"]),
        ("+49 (0)89 1234567", "DE", &["+49891234567"]),
        ("Tél. : 01 42 68 53 00", "FR", &["+33142685300"]),
        ("+33 1 42 68 53 00", "FR", &["+33142685300"]),
        ("Appelez le 01.42.68.53.00", "FR", &["+33142685300"]),
        ("Bel ons: 020-5551234, telefoon", "NL", &["+31205551234"]),
        ("+31 20 555 1234", "NL", &["+31205551234"]),
        ("Chiamare 06 6982 1234", "IT", &["+390669821234"]),
        ("Teléfono: 912 345 678", "ES", &["+34912345678"]),
        // Elsewhere
        ("+81 3-1234-5678", "US", &["+81312345678"]),
        ("Phone (03) 1234-5678", "JP", &["+81312345678"]),
        ("Call (02) 9876 5432", "AU", &["+61298765432"]),
        ("+61 2 5550 1234", "AU", &["+61255501234"]),
        ("+91 98765 43210", "IN", &["+919876543210"]),
        ("+55 11 91234-5678", "BR", &["+5511912345678"]),
        ("+353 1 234 5678", "IE", &["+35312345678"]),
        ("+41 44 668 18 00", "CH", &["+41446681800"]),
        ("+46 8 123 456 78", "SE", &["+46812345678"]),
        ("+27 21 123 4567", "ZA", &["+27211234567"]),
        // Several in one text
        (
            "Call 0800 123 4567 / 0800 765 4321",
            "GB",
            &["+448001234567", "+448007654321"],
        ),
        (
            "UK: +44 20 7946 0000 · US: +1 650 253 0000",
            "US",
            &["+442079460000", "+16502530000"],
        ),
    ];

    /// (text, region): nothing in these is a phone number.
    const NEGATIVES: &[(&str, &str)] = &[
        ("Your appointment is on 2026-11-23 at 10:30.", "US"),
        ("Due 12/05/2024", "US"),
        ("Posted 23.11.2026", "DE"),
        ("Total: $1,234.56", "US"),
        ("Total: $1234567.89", "US"),
        ("Price 1.234.567,89 €", "DE"),
        ("1 234 567 €", "FR"),
        ("Order #123456789 has shipped", "US"),
        ("Order number: 123-456-7890", "US"),
        ("Your order 1234 5678 is on its way", "US"),
        ("Reference: 2024 0001 2345", "GB"),
        ("Enter your PIN 4321", "US"),
        ("PIN: 1234 5678", "US"),
        ("Postcode SW1A 1AA", "GB"),
        ("ZIP 94107", "US"),
        ("San Francisco, CA 94107-1234", "US"),
        ("Open 10:30 to 18:00", "US"),
        ("Mon–Fri 08:00–20:00", "GB"),
        ("© 2020–2026 Example Inc.", "US"),
        ("Since 1999, 2024 was our best year", "US"),
        ("Version 10.0.19041.1234", "US"),
        ("Server 192.168.100.200 is down", "US"),
        ("Pi is 3.14159265", "US"),
        ("Card 4111 1111 1111 1111", "US"),
        ("4111 1111 1111 1111", "US"),
        ("ISBN 978-3-16-148410-0", "US"),
        ("Population 12345678", "US"),
        ("We served 1 234 567 users", "FR"),
        ("Owner Number: 5550100", "US"),
        ("Owner Number: 555-0100", "US"),
        ("Conference Code: 884422", "US"),
        ("Account 12345678", "GB"),
        ("Sort code 12-34-56, account 12345678", "GB"),
        ("Invoice INV-2024-000123", "US"),
        ("Tracking 1Z999AA10123456784", "US"),
        ("The link expires after 24 hours.", "US"),
        ("Room 101, 8 Mill Road", "GB"),
        ("Main library, 120 Water Street", "US"),
        ("Monday to Saturday, 9 am to 6 pm", "US"),
        ("Next scheduled call: Thursday, 10:00", "US"),
        ("© 2026 BridgeLine Conferencing, Inc.", "US"),
        ("Score 98.6%", "US"),
        ("1234 5678", "US"),
        ("Batch 2024-11-23-0042", "US"),
        ("Step 1 of 3", "US"),
        ("Suite 300 DENVER CO", "US"),
        ("Call 0800 NOW", "GB"),
        ("v1.2.3", "US"),
        ("12 345 678", "FR"),
        ("Flight 2490 departs 14:35", "US"),
        (
            "Call us any day:\nNovember 1 2 3 4 5 6 7 8 9 10 11 12 13 14",
            "US",
        ),
        ("Seats 12 14 16 18 20 22", "US"),
        ("Call us today.\nBalance 1234 5678", "US"),
    ];

    fn numbers(text: &str, region: &str) -> Vec<String> {
        find_in_text(text, region)
            .into_iter()
            .map(|f| f.e164)
            .collect()
    }

    #[test]
    fn finds_phone_numbers_in_many_formats() {
        let mut failures = Vec::new();
        for (text, region, expected) in POSITIVES {
            let got = numbers(text, region);
            if got != *expected {
                failures.push(format!(
                    "{text:?} ({region}): got {got:?}, want {expected:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn dates_prices_references_and_codes_are_not_phone_numbers() {
        let mut failures = Vec::new();
        for (text, region) in NEGATIVES {
            let got = find_in_text(text, region);
            if !got.is_empty() {
                failures.push(format!("{text:?} ({region}): {got:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn the_table_covers_at_least_sixty_strings() {
        assert!(POSITIVES.len() + NEGATIVES.len() >= 60);
    }

    #[test]
    fn span_raw_and_extension_point_at_the_text() {
        let text = "Billing: call 1 (650) 253-0000 ext. 204 today";
        let found = find_in_text(text, "US");
        let [f] = found.as_slice() else {
            panic!("one number expected: {found:?}");
        };
        assert_eq!(f.raw, "1 (650) 253-0000 ext. 204");
        assert_eq!(text.get(f.span.clone()), Some(f.raw.as_str()));
        assert_eq!(f.extension.as_deref(), Some("204"));
        assert!(f.valid);
        assert_eq!(f.problem, None);
    }

    #[test]
    fn a_number_in_brackets_leaves_the_brackets_out() {
        let found = find_in_text("(call 0800 123 4567)", "GB");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].raw, "0800 123 4567");
    }

    #[test]
    fn validity_and_fiction() {
        let r = read_number("(212) 736-5000", "US");
        assert!(r.valid && !r.fiction);
        // NANP 555-01xx is reserved for fiction; other 555 numbers are by convention.
        assert!(read_number("1-800-555-0199", "US").fiction);
        assert!(read_number("(415) 555-2671", "US").fiction);
        assert!(!read_number("(415) 555-1212", "US").fiction);
        // Ofcom's drama ranges.
        assert!(read_number("020 7946 0958", "GB").fiction);
        assert!(read_number("0113 496 0000", "GB").fiction);
        assert!(read_number("07700 900123", "GB").fiction);
        assert!(!read_number("020 7946 1958", "GB").fiction);
        assert!(read_number("+61 2 5550 1234", "AU").fiction);
        // An exchange may not start with 1: 415-123-4567 does not exist.
        let bad = read_number("415-123-4567", "US");
        assert!(!bad.valid);
        assert_eq!(
            bad.problem.as_deref(),
            Some("no number is allocated in that range")
        );
    }

    #[test]
    fn too_short_numbers_say_so_and_keep_a_stable_name() {
        let r = read_number("0800 123", "US");
        assert!(!r.valid);
        assert!(
            r.problem
                .as_deref()
                .is_some_and(|p| p.starts_with("too short")),
            "{r:?}"
        );
        assert_eq!(r.e164, read_number("0800123", "US").e164);
        let g = read_number("0800 123", "GB");
        assert!(!g.valid);
        assert!(g.e164.starts_with("+44"), "{g:?}");
    }

    #[test]
    fn e164_normalisation() {
        for (written, region, e164) in [
            ("(212) 736-5000", "US", "+12127365000"),
            ("1 212 736 5000", "US", "+12127365000"),
            ("+1 212 736 5000", "GB", "+12127365000"),
            ("011 44 20 7946 0000", "US", "+442079460000"),
            ("00 44 20 7946 0000", "DE", "+442079460000"),
            ("020 7946 0000", "GB", "+442079460000"),
            ("+44 (0)20 7946 0000", "US", "+442079460000"),
            ("030 901820", "DE", "+4930901820"),
            ("01 42 68 53 00", "FR", "+33142685300"),
            ("1-800-FLOWERS", "US", "+18003569377"),
        ] {
            assert_eq!(
                read_number(written, region).e164,
                e164,
                "{written} in {region}"
            );
        }
    }

    #[test]
    fn tel_uris() {
        let t = parse_tel("tel:+1-800-555-0199", "GB").unwrap();
        assert_eq!(t.e164, "+18005550199");
        let t = parse_tel("TEL:%2B44%2020%207946%200000", "US").unwrap();
        assert_eq!(t.e164, "+442079460000");
        let t = parse_tel("tel:0800123", "US").unwrap();
        assert!(!t.valid);
        assert_eq!(t.e164, read_number("0800 123", "US").e164);
        let t = parse_tel("tel:736-5000;phone-context=+1-212", "US");
        assert!(t.is_ok());
        let t = parse_tel("tel:+12127365000;ext=204", "US").unwrap();
        assert_eq!(t.extension.as_deref(), Some("204"));
        assert_eq!(t.e164, "+12127365000");
        assert_eq!(parse_tel("tel:", "US"), Err(TelError::Empty));
        assert_eq!(
            parse_tel("tel:1-800-FLOWERS", "US"),
            Err(TelError::BadCharacter('F'))
        );
        assert_eq!(
            parse_tel("tel:undefined", "US"),
            Err(TelError::BadCharacter('u'))
        );
        assert_eq!(parse_tel("mailto:a@b.c", "US"), Err(TelError::NotTel));
        assert!(matches!(
            parse_tel("tel:12", "US"),
            Err(TelError::TooShort(_))
        ));
    }

    #[test]
    fn a_tel_link_that_dials_another_number_reads_differently() {
        let shown = find_in_phone_text("(800) 555-0148", "US");
        let dialled = parse_tel("tel:+18005550184", "US").unwrap();
        assert_eq!(shown.len(), 1);
        assert_ne!(shown[0].e164, dialled.e164);
        let same = parse_tel("tel:+18005550148", "US").unwrap();
        assert_eq!(shown[0].e164, same.e164);
    }

    #[test]
    fn phone_text_keeps_invalid_numbers_without_context() {
        assert!(find_in_text("0800 123", "US").is_empty());
        let found = find_in_phone_text("0800 123", "US");
        assert_eq!(found.len(), 1);
        assert!(!found[0].valid);
    }

    #[test]
    fn regions_come_from_config_then_lang() {
        assert_eq!(region_for(Some("gb"), "en-US"), "GB");
        assert_eq!(region_for(None, "en-GB"), "GB");
        assert_eq!(region_for(None, "en_au"), "AU");
        assert_eq!(region_for(None, "zh-Hant-TW"), "TW");
        assert_eq!(region_for(None, "de"), "DE");
        assert_eq!(region_for(None, "en"), "US");
        assert_eq!(region_for(None, ""), "US");
        assert_eq!(region_for(Some("QQ"), "fr-FR"), "FR");
        assert_eq!(region_hint(None, "en"), None);
        assert_eq!(region_of("+442079460123").as_deref(), Some("GB"));
        assert_eq!(region_of("+16502530000").as_deref(), Some("US"));
        assert_eq!(region_of("+0"), None);
    }

    #[test]
    fn odd_text_never_panics() {
        for text in [
            "",
            "+",
            "(",
            "((((((+",
            "+++++1",
            "  2 22#:",
            "003-836-4618x3001",
            "１２３４５６７８９０",
            "☎ 📞 ✆",
            "Call \u{202f}+\u{a0}4\u{2013}4\u{2011}2",
            "x".repeat(5000).as_str(),
            "1-".repeat(3000).as_str(),
            "1 ".repeat(3000).as_str(),
            "12 ".repeat(3000).as_str(),
            "(0) (0) (0) (0) (0) (0)",
            "tel:+;;;;====",
        ] {
            let _ = find_in_text(text, "US");
            let _ = find_in_phone_text(text, "ZZ");
            let _ = parse_tel(text, "GB");
            let _ = read_number(text, "US");
        }
    }

    /// The text of the part that speaks for the `n`th number found in `text`.
    fn own(text: &str, n: usize) -> String {
        let found = find_in_text(text, "US");
        let spans: Vec<Range<usize>> = found.iter().map(|f| f.span.clone()).collect();
        let at = spans[n].clone();
        text[own_part(text, at, &spans)].to_string()
    }

    #[test]
    fn a_number_owns_its_line_sentence_or_stretch_never_its_neighbours() {
        // Two entries, one line each: each keeps its own hours.
        let text = "Billing (415) 809-2200, Mon–Fri 8–6\nEmergencies, 24 hours (415) 809-2300";
        assert_eq!(own(text, 0), "Billing (415) 809-2200, Mon–Fri 8–6");
        assert_eq!(own(text, 1), "Emergencies, 24 hours (415) 809-2300");
        // A table row (cells joined by tabs) is one line.
        let row = "Sales\t(415) 809-2200\tMon–Fri 8–6\nNights\t(415) 809-2300\t24/7";
        assert_eq!(own(row, 1), "Nights\t(415) 809-2300\t24/7");
        // Two numbers on one line: each its sentence, then the stretch between them.
        let line = "Billing: (415) 809-2200. Open 24 hours: (415) 809-2300; fax (415) 809-2400";
        assert_eq!(own(line, 0), "Billing: (415) 809-2200.");
        assert_eq!(own(line, 1), " Open 24 hours: (415) 809-2300;");
        let same = "Sales (415) 809-2200, weekdays, or (415) 809-2300, day and night";
        assert_eq!(own(same, 0), "Sales (415) 809-2200, weekdays,");
        assert_eq!(own(same, 1), " or (415) 809-2300, day and night");
        // Alone on its line, the number keeps its whole element and a label line above it.
        assert_eq!(
            own("Heading\nLost card, 24/7:\n(212) 736-5000", 0),
            "Lost card, 24/7:\n(212) 736-5000"
        );
        assert_eq!(
            own("Call (212) 736-5000. We answer day and night.", 0),
            "Call (212) 736-5000. We answer day and night."
        );
        // Never outside the text, whatever the span.
        assert_eq!(own_part("abc", 2..9, &[]), 2..9);
    }
}
