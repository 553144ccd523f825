//! Masking of `{env:…}` secrets in everything nocall writes.
//!
//! Every piece of text that leaves the process (terminal, reports, traces, evidence) goes
//! through [`Secrets::mask`]. It is deliberately blunt: any occurrence of a secret value is
//! replaced, wherever it came from (a field echoed back by the page, a URL, a message).

use std::borrow::Cow;

/// What a secret is shown as.
pub const MASK: &str = "••••••";

/// The secret values of a run.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    // Longest first, so a secret that contains another is masked whole.
    values: Vec<String>,
}

impl Secrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value. Empty values are ignored: they would match everywhere.
    pub fn add(&mut self, value: &str) {
        if value.is_empty() || self.values.iter().any(|v| v == value) {
            return;
        }
        self.values.push(value.to_string());
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    pub fn extend(&mut self, other: &Secrets) {
        for v in &other.values {
            self.add(v);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The text with every secret value replaced by [`MASK`].
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.values.iter().any(|v| text.contains(v.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        Cow::Owned(out)
    }

    /// Masks every string inside a JSON value, keys included.
    pub fn mask_json(&self, value: &mut serde_json::Value) {
        if self.values.is_empty() {
            return;
        }
        match value {
            serde_json::Value::String(s) => {
                if let Cow::Owned(m) = self.mask(s) {
                    *s = m;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json(v)),
            serde_json::Value::Object(map) => {
                let entries = std::mem::take(map);
                for (k, mut v) in entries {
                    self.mask_json(&mut v);
                    map.insert(self.mask(&k).into_owned(), v);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_longest_first() {
        let mut s = Secrets::new();
        s.add("7391");
        s.add("pin-7391-x");
        assert_eq!(s.mask("a pin-7391-x b 7391"), format!("a {MASK} b {MASK}"));
    }

    #[test]
    fn leaves_clean_text_borrowed_and_ignores_empty() {
        let mut s = Secrets::new();
        s.add("");
        assert!(s.is_empty());
        s.add("hunter2");
        assert!(matches!(s.mask("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn masks_json_strings_and_keys() {
        let mut s = Secrets::new();
        s.add("hunter2");
        let mut v = serde_json::json!({"hunter2": ["x hunter2", 3], "n": "ok"});
        s.mask_json(&mut v);
        let text = v.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains(MASK));
    }
}
