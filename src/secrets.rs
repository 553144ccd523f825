//! Masking of `{env:…}` secrets in everything nocall writes.
//!
//! Every piece of text that leaves the process (terminal, reports, traces, evidence) goes
//! through [`Secrets::mask`]. It is deliberately blunt: any occurrence of a secret value is
//! replaced, wherever it came from (a field echoed back by the page, a URL, a message).
//! Structured values (traces, findings) are masked whole by [`Secrets::mask_serialized`],
//! which fails closed: a value it cannot mask is never handed back unmasked.

mod spelling;

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// What a secret is shown as.
pub(crate) const MASK: &str = "••••••";

/// A value could not be masked, and so was dropped rather than shown with its secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("its secrets could not be masked ({0})")]
pub(crate) struct MaskError(String);

/// The secret values of a run.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    // Longest first, so a secret that contains another is masked whole.
    values: Vec<String>,
    /// Each value prepared for searching in every spelling; `None` when it could not be
    /// (then every text is masked whole: fail closed).
    prepared: Vec<Option<spelling::Prepared>>,
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
        self.prepared = self
            .values
            .iter()
            .map(|v| spelling::Prepared::new(v))
            .collect();
    }

    pub fn extend(&mut self, other: &Secrets) {
        for v in &other.values {
            self.add(v);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The text with every secret value replaced by `MASK`, in every spelling a page, a URL
    /// or a JSON document may give it: percent- and form-encoded, HTML- and JSON-escaped
    /// (and two of these at once), with its whitespace squeezed, in base64, and in any
    /// letter case. A short secret (under 8 characters, or all digits) is masked only as a
    /// whole token, so "e" never damages "example". Fails closed: if its own bookkeeping
    /// breaks, the whole text is masked.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.values.is_empty() || text.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for p in &self.prepared {
            match p.as_ref().and_then(|p| spelling::find_all(text, p)) {
                Some(found) => ranges.extend(found),
                None => return Cow::Owned(MASK.to_string()),
            }
        }
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        match spelling::replace(text, ranges, MASK) {
            Some(masked) => Cow::Owned(masked),
            None => Cow::Owned(MASK.to_string()),
        }
    }

    /// Masks every string inside a JSON value, keys included.
    pub(crate) fn mask_json(&self, value: &mut serde_json::Value) {
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

    /// The value with every secret inside it masked, keys and all, through its JSON form.
    /// A value that does not survive the round trip (a NaN, a map with non-text keys) is
    /// dropped: the error never carries it, masked or not.
    pub(crate) fn mask_serialized<T: Serialize + DeserializeOwned>(
        &self,
        value: T,
    ) -> Result<T, MaskError> {
        if self.values.is_empty() {
            return Ok(value);
        }
        let json = self.to_masked_json(&value)?;
        serde_json::from_value(json).map_err(|e| self.error(&e))
    }

    /// The value as pretty-printed JSON with every secret masked, for a file.
    pub(crate) fn masked_json_text<T: Serialize>(&self, value: &T) -> Result<String, MaskError> {
        let json = self.to_masked_json(value)?;
        serde_json::to_string_pretty(&json).map_err(|e| self.error(&e))
    }

    fn to_masked_json<T: Serialize>(&self, value: &T) -> Result<serde_json::Value, MaskError> {
        let mut json = serde_json::to_value(value).map_err(|e| self.error(&e))?;
        self.mask_json(&mut json);
        Ok(json)
    }

    fn error(&self, e: &serde_json::Error) -> MaskError {
        MaskError(self.mask(&e.to_string()).into_owned())
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

    #[test]
    fn structured_values_are_masked_whole_or_dropped() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Step {
            said: String,
            took: f64,
        }
        let mut s = Secrets::new();
        s.add("hunter2");
        let masked = s
            .mask_serialized(Step {
                said: "pin hunter2".into(),
                took: 1.5,
            })
            .expect("masks");
        assert_eq!(masked.said, format!("pin {MASK}"));
        let text = s.masked_json_text(&masked).expect("writes");
        assert!(text.contains(MASK) && !text.contains("hunter2"), "{text}");
        // A NaN comes back from JSON as null, which no f64 reads: the value is dropped, not
        // returned with its secret.
        let broken = s.mask_serialized(Step {
            said: "pin hunter2".into(),
            took: f64::NAN,
        });
        let err = broken.expect_err("a NaN does not survive the round trip");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(
            Secrets::new()
                .mask_serialized(Step {
                    said: "x".into(),
                    took: f64::NAN
                })
                .is_ok(),
            "with no secrets, nothing is round-tripped"
        );
    }
}
