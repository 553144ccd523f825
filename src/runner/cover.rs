//! Screenshots never show a secret: a page that echoes one in its visible text (a GET
//! form's result, "You searched for …") gets no screenshot for that step.
//!
//! Fail closed and simple: the image is dropped rather than painted over, so a secret in a
//! frame, a shadow root or an odd font cannot slip past a cover that missed it. It reads
//! the recorded page only; it must not send the secrets to the page's JavaScript.

use std::borrow::Cow;

use crate::secrets::Secrets;
use crate::trace::PageState;

/// The page as recorded shows a secret, in any spelling the masking knows.
pub(super) fn shows_secret(page: &PageState, secrets: &Secrets) -> bool {
    if secrets.is_empty() {
        return false;
    }
    let holds = |text: &str| matches!(secrets.mask(text), Cow::Owned(_));
    holds(&page.text)
        || holds(&page.title)
        || page.links.iter().any(|l| holds(&l.text))
        || page.fields.iter().any(|f| holds(&f.placeholder))
}
