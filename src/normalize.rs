//! Label normalisation: how a person compares two labels, not how a computer does.
//!
//! Case, white space, punctuation and hyphenation do not make a different label to a
//! reader ("E-mail" = "Email", "User name" = "Username").

/// Lower-case letters and digits only.
pub fn normalize(label: &str) -> String {
    label
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}
