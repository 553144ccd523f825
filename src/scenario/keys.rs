//! The keys a `press` step may name, and the key events each one is.
//!
//! Pure data: the scenario loader checks a key's name with [`parse`], and the runner sends
//! what it returns as real key events (`Input.dispatchKeyEvent`). It must not guess: a name
//! not listed here is refused at load time, with the file position.

/// One key press, as the browser's input events describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    /// The DOM `key` value (`Enter`, `a`, `ArrowDown`).
    pub key: String,
    /// The DOM `code` value (`Enter`, `KeyA`, `ArrowDown`).
    pub code: String,
    /// The Windows virtual key code Chromium needs to perform the key's default action.
    pub vk: u32,
    /// The text the key types (`"\r"` for Enter, so a form is submitted as a real Enter
    /// does); empty for keys that type nothing.
    pub text: String,
    /// Input.dispatchKeyEvent's modifier bits: Alt 1, Control 2, Meta 4, Shift 8.
    pub modifiers: u32,
}

/// Named keys: (name, code, virtual key code, text).
const NAMED: [(&str, &str, u32, &str); 16] = [
    ("Enter", "Enter", 13, "\r"),
    ("Tab", "Tab", 9, ""),
    ("Escape", "Escape", 27, ""),
    ("Backspace", "Backspace", 8, ""),
    ("Delete", "Delete", 46, ""),
    ("Space", "Space", 32, " "),
    ("ArrowUp", "ArrowUp", 38, ""),
    ("ArrowDown", "ArrowDown", 40, ""),
    ("ArrowLeft", "ArrowLeft", 37, ""),
    ("ArrowRight", "ArrowRight", 39, ""),
    ("Home", "Home", 36, ""),
    ("End", "End", 35, ""),
    ("PageUp", "PageUp", 33, ""),
    ("PageDown", "PageDown", 34, ""),
    ("Insert", "Insert", 45, ""),
    (" ", "Space", 32, " "),
];

const MODIFIERS: [(&str, u32); 4] = [("Alt", 1), ("Control", 2), ("Meta", 4), ("Shift", 8)];

/// The key events of the modifier keys themselves: (key, code, virtual key code, bit), in
/// the order a chord presses them.
pub(crate) const MODIFIER_KEYS: [(&str, &str, u32, u32); 4] = [
    ("Control", "ControlLeft", 17, 2),
    ("Alt", "AltLeft", 18, 1),
    ("Meta", "MetaLeft", 91, 4),
    ("Shift", "ShiftLeft", 16, 8),
];

/// Whether `key` (a DOM `key` value) is a modifier that is held, not pressed on its own.
pub(crate) fn is_modifier(key: &str) -> bool {
    MODIFIER_KEYS.iter().any(|(k, ..)| *k == key)
}

/// The keys a `press` step may name, for a diagnostic.
pub(crate) const KNOWN: &str = "Enter, Tab, Escape, Backspace, Delete, Space, the arrows \
     (ArrowUp …), Home, End, PageUp, PageDown, one character, each with `Control+`, `Shift+`, \
     `Alt+` or `Meta+` before it";

/// The key a `press` step names (`Enter`, `Shift+Tab`, `a`), or `None` when it names none.
pub(crate) fn parse(name: &str) -> Option<Key> {
    let mut modifiers = 0;
    let mut rest = name;
    // `Control++` presses the plus key with Control.
    while let Some((m, tail)) = rest.split_once('+').filter(|(_, t)| !t.is_empty()) {
        let (_, bit) = MODIFIERS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(m) || (*n == "Control" && m == "Ctrl"))?;
        modifiers |= bit;
        rest = tail;
    }
    if let Some((_, code, vk, text)) = NAMED.iter().find(|(n, ..)| n.eq_ignore_ascii_case(rest)) {
        let key = if rest == " " || rest.eq_ignore_ascii_case("Space") {
            " ".to_string()
        } else {
            code.to_string()
        };
        return Some(Key {
            key,
            code: code.to_string(),
            vk: *vk,
            text: if modifiers & 7 != 0 {
                String::new()
            } else {
                text.to_string()
            },
            modifiers,
        });
    }
    let mut chars = rest.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return None;
    };
    if c.is_control() {
        return None;
    }
    let (code, vk) = if c.is_ascii_alphabetic() {
        (
            format!("Key{}", c.to_ascii_uppercase()),
            c.to_ascii_uppercase() as u32,
        )
    } else if c.is_ascii_digit() {
        (format!("Digit{c}"), c as u32)
    } else {
        (String::new(), 0)
    };
    Some(Key {
        key: c.to_string(),
        code,
        vk,
        // With Control, Alt or Meta held a key is a shortcut and types nothing.
        text: if modifiers & 7 != 0 {
            String::new()
        } else {
            c.to_string()
        },
        modifiers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_types_a_carriage_return_so_forms_submit() {
        let k = parse("Enter").unwrap();
        assert_eq!((k.key.as_str(), k.vk, k.text.as_str()), ("Enter", 13, "\r"));
        assert_eq!(parse("enter"), Some(k));
    }

    #[test]
    fn modifiers_and_characters() {
        let k = parse("Shift+Tab").unwrap();
        assert_eq!((k.key.as_str(), k.modifiers), ("Tab", 8));
        let k = parse("Control+a").unwrap();
        assert_eq!((k.code.as_str(), k.vk, k.modifiers), ("KeyA", 65, 2));
        assert!(k.text.is_empty(), "a shortcut types nothing");
        assert_eq!(parse("7").unwrap().code, "Digit7");
        assert_eq!(parse("Control++").unwrap().key, "+");
        let k = parse("Control+Shift+ArrowLeft").unwrap();
        assert_eq!((k.key.as_str(), k.modifiers), ("ArrowLeft", 10));
        assert!(is_modifier("Shift") && !is_modifier("a"));
        for bad in ["", "Enterr", "Hyper+a", "ab", "Control+"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
