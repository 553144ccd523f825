//! Where a secret stands in a text, in every spelling it may have there.
//!
//! Percent-encoding, HTML entities and JSON escapes are not canonical (which characters get
//! encoded, `%2f` or `%2F`, `+` or `%20`), so no list of encodings of the secret can be
//! complete. Instead the *text* is decoded into views, each byte of a view remembering the
//! range of the original text it came from; the secret is searched for in every view
//! (ignoring ASCII case) and the hits are mapped back. Base64 is the one spelling that is
//! encoded rather than decoded. This module only finds ranges; it never prints, logs or
//! keeps a text, and it returns `None` rather than a guess when its bookkeeping breaks.

use base64::Engine as _;
use regex::bytes::Regex;

/// One secret, prepared for searching.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    /// The secret, case-insensitively, in a decoded view.
    exact: Regex,
    /// The secret with its whitespace squeezed and trimmed, for squeezed views; `None` when
    /// the secret has no whitespace to squeeze.
    squeezed: Option<Regex>,
    /// Short secrets match only as whole tokens.
    whole_token: bool,
    /// All digits: a token's neighbours are digits; otherwise letters and digits.
    digits: bool,
    /// Base64 spellings: (core, whole token only).
    b64: Vec<Regex>,
    /// The secret's longest ASCII alphanumeric run, when 3 or more long: every decoding
    /// here leaves it as it is, so a text without it holds no decodable spelling.
    run: Option<Regex>,
    /// The secret has letters beyond ASCII: texts are searched lowercased (Unicode), so
    /// CSS `text-transform` or a page's own capitals do not hide it.
    fold: bool,
    /// The secret's length in bytes, for the windows around its run.
    len: usize,
}

/// A decoder's output: bytes, and for each the range of its input it came from.
type Decoded = (Vec<u8>, Vec<(usize, usize)>);
type Decoder = fn(&[u8]) -> Option<Decoded>;

/// A text decoded: its bytes, and for each the range of the original it came from.
struct View {
    bytes: Vec<u8>,
    origin: Vec<(usize, usize)>,
}

fn literal(bytes: &[u8]) -> String {
    let mut out = String::from("(?i-u)");
    for &b in bytes {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

fn is_space_at(b: &[u8], i: usize) -> usize {
    match b.get(i..) {
        Some([b' ' | b'\t' | b'\n' | b'\r' | 0x0c, ..]) => 1,
        Some([0xC2, 0xA0, ..]) => 2,
        Some([0xE2, 0x80, 0x87 | 0xAF, ..]) => 3,
        _ => 0,
    }
}

fn squeeze_bytes(b: &[u8]) -> Vec<u8> {
    let view = squeeze(b);
    let mut v = view.0;
    while v.first() == Some(&b' ') {
        v.remove(0);
    }
    while v.last() == Some(&b' ') {
        v.pop();
    }
    v
}

impl Prepared {
    pub(super) fn new(original: &str) -> Option<Prepared> {
        let fold = original.to_lowercase() != original.to_ascii_lowercase()
            || original.to_uppercase() != original.to_ascii_uppercase();
        let lowered = original.to_lowercase();
        // Base64 is case-sensitive: encoded from the secret as it is.
        let raw = original.as_bytes();
        let secret = if fold { lowered.as_str() } else { original };
        let bytes = secret.as_bytes();
        let whole_token = secret.chars().count() < 8 || secret.chars().all(|c| c.is_ascii_digit());
        let digits = secret.chars().all(|c| c.is_ascii_digit());
        let squeezed = {
            let s = squeeze_bytes(bytes);
            (s != bytes && !s.is_empty()).then(|| Regex::new(&literal(&s)))
        };
        let squeezed = match squeezed {
            Some(r) => Some(r.ok()?),
            None => None,
        };
        let mut b64 = Vec::new();
        for engine in [
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            if whole_token {
                // Only the whole encoding, as a token of its own.
                let enc = engine.encode(raw);
                if enc.len() >= 2 {
                    b64.push(Regex::new(&format!("(?-u){}", regex::escape(&enc))).ok()?);
                }
                continue;
            }
            for shift in 0..3usize {
                let mut input = vec![0u8; shift];
                input.extend_from_slice(raw);
                let enc = engine.encode(&input);
                let from = (8 * shift).div_ceil(6);
                let to = (8 * (shift + raw.len())) / 6;
                let Some(core) = enc.get(from..to) else {
                    continue;
                };
                if core.len() >= 4 {
                    b64.push(Regex::new(&format!("(?-u){}", regex::escape(core))).ok()?);
                }
            }
        }
        let run = secret
            .split(|c: char| !c.is_ascii_alphanumeric())
            .max_by_key(|r| r.len())
            .filter(|r| r.len() >= 3)
            .map(|r| Regex::new(&literal(r.as_bytes())));
        let run = match run {
            Some(r) => Some(r.ok()?),
            None => None,
        };
        Some(Prepared {
            exact: Regex::new(&literal(bytes)).ok()?,
            squeezed,
            whole_token,
            digits,
            b64,
            run,
            fold,
            len: bytes.len(),
        })
    }

    /// A base64 hit widened to its whole token; a short secret's only when the token is
    /// its encoding and nothing more.
    fn b64_hit(&self, b: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
        let (a, z) = whole_b64(b, start, end);
        if self.whole_token && (a != start || b.get(end..z)?.iter().any(|&c| c != b'=')) {
            return None;
        }
        Some((a, z))
    }

    fn in_class(&self, b: u8) -> bool {
        if self.digits {
            b.is_ascii_digit()
        } else {
            b.is_ascii_alphanumeric() || b >= 0x80
        }
    }

    /// Hits of `re` in a view, as ranges of the original text.
    fn hits(&self, re: &Regex, view: &View, out: &mut Vec<(usize, usize)>) -> Option<()> {
        for m in re.find_iter(&view.bytes) {
            if self.whole_token {
                let before = m.start().checked_sub(1).and_then(|i| view.bytes.get(i));
                let after = view.bytes.get(m.end());
                if before.is_some_and(|&b| self.in_class(b))
                    || after.is_some_and(|&b| self.in_class(b))
                {
                    continue;
                }
            }
            if m.start() == m.end() {
                continue;
            }
            let first = view.origin.get(m.start())?;
            let last = view.origin.get(m.end() - 1)?;
            out.push((first.0, last.1));
        }
        Some(())
    }
}

/// Every range of `text` that spells `secret`; `None` when something broke (the caller
/// then masks everything).
pub(super) fn find_all(text: &str, secret: &Prepared) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    let raw = text.as_bytes();
    for re in &secret.b64 {
        for m in re.find_iter(raw) {
            if let Some(r) = secret.b64_hit(raw, m.start(), m.end()) {
                out.push(r);
            }
        }
    }
    if let Some(run) = &secret.run {
        // Every decoding below keeps the run as it is, so without it there is nothing more;
        // in a long text, only the windows around it are decoded.
        // (A short text with `%` is decoded whole: its run may be percent-encoded.)
        if !run.is_match(raw) && (text.len() > WINDOWED || !raw.contains(&b'%')) {
            return Some(out);
        }
        if text.len() > WINDOWED {
            let margin = 12 * secret.len + 16;
            let windows = merged(
                text,
                run.find_iter(raw).map(|m| {
                    let a = m.start().saturating_sub(margin);
                    (a, (m.end() + margin).min(text.len()))
                }),
            )?;
            for (a, b) in windows {
                let found = in_views(text.get(a..b)?, secret)?;
                out.extend(found.into_iter().map(|(x, y)| (x + a, y + a)));
            }
            return Some(out);
        }
    }
    out.extend(in_views(text, secret)?);
    Some(out)
}

/// Texts longer than this are decoded only around the secret's longest alphanumeric run.
const WINDOWED: usize = 4096;

/// The hits of `secret` in every decoded view of `text` (base64 in decoded views too).
fn in_views(text: &str, secret: &Prepared) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    let raw = text.as_bytes();
    let base = if secret.fold {
        lowered(text)
    } else {
        View {
            bytes: raw.to_vec(),
            origin: (0..text.len()).map(|i| (i, i + 1)).collect(),
        }
    };
    let mut views = vec![base];
    let decoders: [Decoder; 4] = [percent_plus, percent_kept, html, json];
    for depth in 0..2 {
        let mut next = Vec::new();
        let level: Vec<usize> = if depth == 0 {
            vec![0]
        } else {
            (1..views.len()).collect()
        };
        for &i in &level {
            for decode in decoders {
                let Some(view) = views.get(i) else { continue };
                if let Some((bytes, ranges)) = decode(&view.bytes) {
                    next.push(compose(view, bytes, &ranges)?);
                }
            }
        }
        views.extend(next);
    }
    for view in &views {
        // Base64 inside a percent-encoded text ("%2B", "%3D"); skipped when lowercased.
        for re in secret.b64.iter().filter(|_| !secret.fold) {
            for m in re.find_iter(&view.bytes) {
                let Some((a, b)) = secret.b64_hit(&view.bytes, m.start(), m.end()) else {
                    continue;
                };
                let first = view.origin.get(a)?;
                let last = view.origin.get(b.checked_sub(1)?)?;
                out.push((first.0, last.1));
            }
        }
        secret.hits(&secret.exact, view, &mut out)?;
        if let Some(sq) = &secret.squeezed {
            let (bytes, ranges) = squeeze(&view.bytes);
            let squeezed = compose(view, bytes, &ranges)?;
            secret.hits(sq, &squeezed, &mut out)?;
        }
    }
    Some(out)
}

/// The base64 token around a hit, whole: a blob that holds a secret is masked entire.
fn whole_b64(b: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    let in_b64 = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
    while start > 0 && b.get(start - 1).is_some_and(|&c| in_b64(c)) {
        start -= 1;
    }
    while b.get(end).is_some_and(|&c| in_b64(c) || c == b'=') {
        end += 1;
    }
    (start, end)
}

/// The text lowercased (Unicode), each byte remembering the character it came from.
fn lowered(text: &str) -> View {
    let mut bytes = Vec::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let range = (i, i + c.len_utf8());
        for l in c.to_lowercase() {
            push_char(l, range, &mut bytes, &mut origin);
        }
    }
    View { bytes, origin }
}

/// A view of a view: its ranges (indices into `view`) mapped to the original text.
fn compose(view: &View, bytes: Vec<u8>, ranges: &[(usize, usize)]) -> Option<View> {
    let origin = ranges
        .iter()
        .map(|&(a, b)| {
            let first = view.origin.get(a)?;
            let last = view.origin.get(b.checked_sub(1)?)?;
            Some((first.0, last.1))
        })
        .collect::<Option<Vec<_>>>()?;
    (origin.len() == bytes.len()).then_some(View { bytes, origin })
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn percent(b: &[u8], plus: bool) -> Option<Decoded> {
    if !(b.contains(&b'%') || plus && b.contains(&b'+')) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    let mut ranges = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h * 16 + l);
            ranges.push((i, i + 3));
            i += 3;
            continue;
        }
        out.push(if plus && c == b'+' { b' ' } else { c });
        ranges.push((i, i + 1));
        i += 1;
    }
    Some((out, ranges))
}

fn percent_plus(b: &[u8]) -> Option<Decoded> {
    percent(b, true)
}

fn percent_kept(b: &[u8]) -> Option<Decoded> {
    // Only worth a view of its own when `+` would be read differently.
    if !b.contains(&b'+') {
        return None;
    }
    percent(b, false)
}

fn push_char(c: char, range: (usize, usize), out: &mut Vec<u8>, ranges: &mut Vec<(usize, usize)>) {
    let mut buf = [0u8; 4];
    for &byte in c.encode_utf8(&mut buf).as_bytes() {
        out.push(byte);
        ranges.push(range);
    }
}

fn html(b: &[u8]) -> Option<Decoded> {
    if !b.contains(&b'&') {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    let mut ranges = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'&'
            && let Some(len) = b[i..].iter().take(12).position(|&c| c == b';')
            && let Some(c) = entity(&b[i + 1..i + len])
        {
            push_char(c, (i, i + len + 1), &mut out, &mut ranges);
            i += len + 1;
            continue;
        }
        out.push(b[i]);
        ranges.push((i, i + 1));
        i += 1;
    }
    Some((out, ranges))
}

fn entity(name: &[u8]) -> Option<char> {
    let name = std::str::from_utf8(name).ok()?;
    let code = if let Some(hexa) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        u32::from_str_radix(hexa, 16).ok()?
    } else if let Some(dec) = name.strip_prefix('#') {
        dec.parse().ok()?
    } else {
        match name.to_ascii_lowercase().as_str() {
            "amp" => '&' as u32,
            "lt" => '<' as u32,
            "gt" => '>' as u32,
            "quot" => '"' as u32,
            "apos" => '\'' as u32,
            "nbsp" => 0xA0,
            "sol" => '/' as u32,
            "equals" => '=' as u32,
            "num" => '#' as u32,
            "percnt" => '%' as u32,
            _ => return None,
        }
    };
    char::from_u32(code)
}

fn json(b: &[u8]) -> Option<Decoded> {
    if !b.contains(&b'\\') {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    let mut ranges = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex4 = |at: usize| -> Option<u32> {
        let s = std::str::from_utf8(b.get(at..at + 4)?).ok()?;
        u32::from_str_radix(s, 16).ok()
    };
    while i < b.len() {
        if b[i] == b'\\' {
            let simple = match b.get(i + 1) {
                Some(b'"') => Some('"'),
                Some(b'\\') => Some('\\'),
                Some(b'/') => Some('/'),
                Some(b'n') => Some('\n'),
                Some(b't') => Some('\t'),
                Some(b'r') => Some('\r'),
                Some(b'b') => Some('\u{8}'),
                Some(b'f') => Some('\u{c}'),
                _ => None,
            };
            if let Some(c) = simple {
                push_char(c, (i, i + 2), &mut out, &mut ranges);
                i += 2;
                continue;
            }
            if b.get(i + 1) == Some(&b'u')
                && let Some(hi) = hex4(i + 2)
            {
                if (0xD800..0xDC00).contains(&hi)
                    && b.get(i + 6..i + 8) == Some(b"\\u")
                    && let Some(lo) = hex4(i + 8)
                    && (0xDC00..0xE000).contains(&lo)
                {
                    let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    if let Some(c) = char::from_u32(code) {
                        push_char(c, (i, i + 12), &mut out, &mut ranges);
                        i += 12;
                        continue;
                    }
                }
                if let Some(c) = char::from_u32(hi) {
                    push_char(c, (i, i + 6), &mut out, &mut ranges);
                    i += 6;
                    continue;
                }
            }
        }
        out.push(b[i]);
        ranges.push((i, i + 1));
        i += 1;
    }
    Some((out, ranges))
}

/// Runs of whitespace (no-break and figure spaces too) as one space.
fn squeeze(b: &[u8]) -> Decoded {
    let mut out = Vec::with_capacity(b.len());
    let mut ranges = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let n = is_space_at(b, i);
        if n == 0 {
            out.push(b[i]);
            ranges.push((i, i + 1));
            i += 1;
            continue;
        }
        let start = i;
        while is_space_at(b, i) > 0 {
            i += is_space_at(b, i);
        }
        out.push(b' ');
        ranges.push((start, i));
    }
    (out, ranges)
}

/// Sorted ranges of `text` widened to whole characters, overlapping ones merged; `None`
/// for a range that is empty or past the end.
fn merged(text: &str, ranges: impl Iterator<Item = (usize, usize)>) -> Option<Vec<(usize, usize)>> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (mut a, mut b) in ranges {
        if a >= b || b > text.len() {
            return None;
        }
        while !text.is_char_boundary(a) {
            a -= 1;
        }
        while !text.is_char_boundary(b) {
            b += 1;
        }
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    Some(out)
}

/// `text` with `ranges` (merged, widened to whole characters) replaced by `mask`.
pub(super) fn replace(text: &str, mut ranges: Vec<(usize, usize)>, mask: &str) -> Option<String> {
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (a, b) in merged(text, ranges.into_iter())? {
        out.push_str(text.get(at..a)?);
        out.push_str(mask);
        at = b;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(secret: &str, text: &str) -> String {
        let p = Prepared::new(secret).expect("prepares");
        let r = find_all(text, &p).expect("finds");
        if r.is_empty() {
            return text.to_string();
        }
        replace(text, r, "#").expect("replaces")
    }

    #[test]
    fn every_spelling_is_found() {
        let s = "Tr0ub4dor&3  x/y\"é";
        for text in [
            "token=Tr0ub4dor%263%20%20x%2Fy%22%C3%A9",
            "token=Tr0ub4dor%263++x%2fy%22%c3%a9",
            "Tr0ub4dor&amp;3  x/y&quot;&#233;",
            "\"Tr0ub4dor&3  x\\/y\\\"\\u00e9\"",
            "the page shows: TR0UB4DOR&3 X/Y\"é",
            "the page shows: Tr0ub4dor&3 x/y\"é",
            "Tr0ub4dor&amp;3&nbsp;x/y&quot;é",
            "next?token=Tr0ub4dor%25263%2520%2520x%252Fy%2522%25C3%25A9",
        ] {
            let m = masked(s, text);
            assert!(!m.to_lowercase().contains("tr0ub4dor"), "{text} → {m}");
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("user:{s}"));
        assert!(!masked(s, &b64).contains(&b64[8..20]), "{b64}");
        for shift in ["", "a", "ab"] {
            let b = base64::engine::general_purpose::URL_SAFE.encode(format!("{shift}{s}!!"));
            let m = masked(s, &b);
            assert!(m.contains('#'), "{shift}: {b} → {m}");
        }
    }

    #[test]
    fn short_secrets_only_as_whole_tokens() {
        assert_eq!(masked("e", "example e."), "example #.");
        assert_eq!(
            masked("1357", "account 400013572222"),
            "account 400013572222"
        );
        assert_eq!(masked("1357", "PIN1357 and 1357"), "PIN# and #");
        assert_eq!(masked("7391", "pin%3D7391"), "pin%3D#");
        assert_eq!(masked("7391", "q=pin%253D7391&x"), "q=pin%253D#&x");
    }

    #[test]
    fn base64_blobs_are_masked_whole_and_case_is_folded() {
        use base64::Engine as _;
        let blob = base64::engine::general_purpose::STANDARD.encode("user:hunter22!");
        assert_eq!(masked("hunter22!", &format!("Basic {blob} x")), "Basic # x");
        let pin = base64::engine::general_purpose::STANDARD.encode("7391");
        assert_eq!(masked("7391", &format!("a {pin} b")), "a # b");
        assert_eq!(masked("Tr0ub4dor\"é", "TR0UB4DOR\"É!"), "#!");
    }

    #[test]
    fn long_texts_are_searched_around_the_secret() {
        let filler = "words &amp; 100% a+b \\n ".repeat(2000);
        let text =
            format!("{filler} token=Tr0ub4dor%263%20%20x {filler} TR0UB4DOR&amp;3 x {filler}");
        let m = masked("Tr0ub4dor&3  x", &text);
        assert!(!m.to_lowercase().contains("tr0ub4dor"));
        assert_eq!(m.matches('#').count(), 2);
    }

    #[test]
    fn clean_text_is_left_alone_and_characters_stay_whole() {
        assert_eq!(masked("hunter22", "nothing here"), "nothing here");
        assert_eq!(masked("é€x", "a é€x b"), "a # b");
    }
}
