//! Screenshots never show a secret: on a page that echoes one in its visible text (a GET
//! form's result, "You searched for …"), the elements showing it are covered before the
//! step's screenshot is taken, and uncovered after.
//!
//! The page is asked for its text-bearing elements ([`LIST_JS`]); which of them show a
//! secret is decided here, by the masking itself, in every spelling it knows — the
//! secrets are never sent to the page's JavaScript. Covering hides the element's own
//! pixels (`visibility: hidden`) and lays a dark box over where it was ([`COVER_JS`]),
//! which then reads the page's visible text again; if that text still shows a secret (a
//! secret split across elements, a child that shows itself again), the covers come off
//! and the step gets no screenshot at all: it fails closed.

use std::borrow::Cow;

use crate::secrets::Secrets;
use crate::trace::PageState;

/// The page as recorded shows a secret, in any spelling the masking knows.
pub(super) fn shows_secret(page: &PageState, secrets: &Secrets) -> bool {
    if secrets.is_empty() {
        return false;
    }
    let holds = |text: &str| holds_secret(text, secrets);
    holds(&page.text)
        || holds(&page.title)
        || page.links.iter().any(|l| holds(&l.text))
        || page.fields.iter().any(|f| holds(&f.placeholder))
}

/// Whether `text` holds a secret, in any spelling the masking knows.
pub(super) fn holds_secret(text: &str, secrets: &Secrets) -> bool {
    matches!(secrets.mask(text), Cow::Owned(_))
}

/// Lists the elements that show text of their own (and the values of text boxes that do
/// not draw theirs as dots), in the document, its open shadow roots and its same-origin
/// frames; keeps them for [`COVER_JS`] and answers their texts, in the same order.
pub(super) const LIST_JS: &str = r#"(() => {
  const key = Symbol.for('nocall.cover');
  const found = [];
  const secretBox = e => e.type === 'password' || getComputedStyle(e).webkitTextSecurity === 'disc';
  const visit = root => {
    for (const e of root.querySelectorAll('*')) {
      if (e.shadowRoot) visit(e.shadowRoot);
      if (e.localName === 'iframe' || e.localName === 'frame') {
        try { if (e.contentDocument) visit(e.contentDocument); } catch (x) {}
        continue;
      }
      if (e.localName === 'script' || e.localName === 'style' || e.localName === 'template') continue;
      if ((e.localName === 'input' || e.localName === 'textarea') && e.value && !secretBox(e)) {
        found.push([e, e.value]);
        continue;
      }
      const own = [...e.childNodes].some(c => c.nodeType === 3 && c.nodeValue.trim());
      if (own) found.push([e, e.innerText || e.textContent || '']);
    }
  };
  visit(document);
  Object.defineProperty(window, key, {value: {els: found.map(f => f[0]), undo: []}, configurable: true, writable: true});
  return found.map(f => f[1]);
})()"#;

/// Covers the listed elements whose indexes it is given (an element is left to the
/// cover of one inside it), then answers what the page still shows as text: its visible
/// text (frames included) and the values of its visible text boxes.
pub(super) const COVER_JS: &str = r#"(picked) => {
  const st = window[Symbol.for('nocall.cover')];
  if (!st) return null;
  const chosen = picked.map(i => st.els[i]).filter(Boolean);
  // An element with a chosen one inside it is covered through that one; text of its own
  // that shows a secret too is caught by the check below.
  const inner = e => chosen.some(o => o !== e && e.contains(o));
  for (const e of chosen) {
    if (inner(e)) continue;
    const r = e.getBoundingClientRect();
    const was = e.style.getPropertyValue('visibility'), prio = e.style.getPropertyPriority('visibility');
    e.style.setProperty('visibility', 'hidden', 'important');
    const box = e.ownerDocument.createElement('div');
    box.setAttribute('aria-hidden', 'true');
    box.style.cssText = `position:fixed;left:${r.left}px;top:${r.top}px;width:${r.width}px;height:${r.height}px;background:#2b2b2b;z-index:2147483647;pointer-events:none;margin:0;border:0;padding:0`;
    (e.ownerDocument.body || e.ownerDocument.documentElement).appendChild(box);
    st.undo.push(() => { e.style.setProperty('visibility', was, prio); box.remove(); });
  }
  const n = window.__nocall;
  let text = n ? n.text() : (document.body ? document.body.innerText : '');
  const values = [];
  const visit = root => {
    for (const e of root.querySelectorAll('*')) {
      if (e.shadowRoot) visit(e.shadowRoot);
      if (e.localName === 'iframe' || e.localName === 'frame') { try { if (e.contentDocument) visit(e.contentDocument); } catch (x) {} }
      if ((e.localName === 'input' || e.localName === 'textarea') && e.value && e.type !== 'password'
          && getComputedStyle(e).webkitTextSecurity !== 'disc' && getComputedStyle(e).visibility !== 'hidden') values.push(e.value);
    }
  };
  visit(document);
  return text + '\n' + values.join('\n');
}"#;

/// Takes every cover off again.
pub(super) const UNCOVER_JS: &str = r#"(() => {
  const key = Symbol.for('nocall.cover');
  const st = window[key];
  if (!st) return true;
  for (const u of st.undo.reverse()) { try { u(); } catch (e) {} }
  delete window[key];
  return true;
})()"#;
