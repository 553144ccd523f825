//! The scripts nocall runs inside the page, and the answers they give.
//!
//! `INIT_JS` runs in every document before the page's own scripts. It watches the document
//! (and every shadow root) for changes and tells nocall about the first change after each
//! look through a DevTools binding, so a wait ends on the page's own events instead of a
//! clock. The other scripts read what a person would judge by eye: is the control there,
//! visible, enabled, still, and would a click at its middle land on it.
//!
//! Nothing here changes what the page shows or does, except that the click probe scrolls
//! its control into view, as a person scrolls before clicking. The scripts keep their
//! state on one non-enumerable `window.__nocall` and never rely on anything the page may
//! have replaced after they ran.

use serde::Deserialize;

/// The name of the binding the page calls when it changes.
pub(super) const SIGNAL: &str = "__nocallSignal";

/// How soon a pending one-shot timer must be due to count as the page still working (a
/// banner that a `setTimeout` brings in 600 ms after load). Longer timers, polling and
/// timers set by a timer's timer's callback do not count.
pub(super) const TIMER_HORIZON_MS: u64 = 1000;

/// Installed in every document before its own scripts; see the module docs.
pub(super) const INIT_JS: &str = r#"(() => {
  if (window.__nocall) return;
  const now = () => performance.now();
  const st = {armed: true, last: now(), timers: new Map(), depth: 0, roots: []};
  const signal = () => {
    if (!st.armed) return;
    st.armed = false;
    try { window.__nocallSignal('m'); } catch (e) {}
  };
  const changed = () => { st.last = now(); signal(); };
  const seen = new MutationObserver(changed);
  const watch = root => { try { seen.observe(root, {subtree: true, childList: true, attributes: true, characterData: true}); } catch (e) {} };
  watch(document);
  const attach = Element.prototype.attachShadow;
  if (attach) Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    watch(root);
    st.roots.push(new WeakRef(root));
    return root;
  };
  const later = window.setTimeout, forget = window.clearTimeout;
  window.setTimeout = function (fn, ms, ...args) {
    if (typeof fn !== 'function') return later.call(this, fn, ms, ...args);
    const delay = Math.max(0, Number(ms) || 0);
    const depth = st.depth + 1;
    const counted = delay <= HORIZON && depth <= 2;
    let id;
    id = later.call(this, function (...a) {
      st.timers.delete(id);
      if (counted) st.last = now();
      const was = st.depth;
      st.depth = depth;
      try { return fn.apply(this, a); } finally { st.depth = was; }
    }, ms, ...args);
    if (counted) st.timers.set(id, now() + delay);
    return id;
  };
  window.clearTimeout = function (id) { st.timers.delete(id); return forget.call(this, id); };
  const roots = () => {
    const out = new Set();
    for (const w of st.roots) { const r = w.deref(); if (r && r.host && r.host.isConnected) out.add(r); }
    // Declarative shadow roots are made by the parser, never by attachShadow.
    const walk = root => { for (const e of root.querySelectorAll('*')) if (e.shadowRoot && !out.has(e.shadowRoot)) { out.add(e.shadowRoot); watch(e.shadowRoot); walk(e.shadowRoot); } };
    if (document.documentElement) walk(document);
    return [...out];
  };
  // The frames of this document whose own documents it may read (same origin), each
  // with its own copy of this script: what they show and how they change is the page's.
  const frames = () => {
    const out = [];
    for (const r of [document, ...roots()]) for (const f of r.querySelectorAll('iframe,frame')) {
      try { const w = f.contentWindow; const m = f.contentDocument && w && w.__nocall; if (m) out.push([f, m]); } catch (e) {}
    }
    return out;
  };
  const text = () => {
    let t = document.body ? document.body.innerText : '';
    for (const r of roots()) for (const c of r.children) {
      if (c.localName === 'style' || c.localName === 'script') continue;
      const s = c.innerText;
      if (s && s.trim()) t += '\n' + s;
    }
    for (const [f, m] of frames()) if (shown(f)) { const s = m.text(); if (s && s.trim()) t += '\n' + s; }
    return t;
  };
  const shown = e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && (!e.checkVisibility || e.checkVisibility({visibilityProperty: true, opacityProperty: true}));
  };
  const squash = s => (s || '').replace(/\s+/g, ' ').trim();
  const busy = () => {
    const all = q => [document, ...roots()].flatMap(r => [...r.querySelectorAll(q)]);
    for (const e of all('[aria-busy=true],[role=progressbar]')) if (shown(e)) return squash(e.innerText).slice(0, 40) || 'a busy indicator';
    for (const e of all('[class*=spinner],[class*=loader],[class*=loading],[id*=spinner],[id*=loader],[id*=loading]')) {
      const r = e.getBoundingClientRect();
      if (shown(e) && r.width <= 200 && r.height <= 200) return squash(e.innerText).slice(0, 40) || 'a spinner';
    }
    const line = text().split('\n').map(squash).find(l => l.length <= 40 && /^(loading|please wait|one moment)\b/i.test(l));
    return line || '';
  };
  const soon = () => {
    let next = -1;
    const t = now();
    for (const due of st.timers.values()) { const left = Math.max(0, due - t); if (next < 0 || left < next) next = left; }
    return next;
  };
  const deepActive = () => { let a = document.activeElement; while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement; return a; };
  Object.defineProperty(window, '__nocall', {enumerable: false, value: Object.freeze({
    arm: () => { st.armed = true; for (const [, m] of frames()) m.arm(); },
    facts: () => {
      const f = {quiet: now() - st.last, soon: soon(), busy: busy()};
      for (const [, m] of frames()) {
        const g = m.facts();
        f.quiet = Math.min(f.quiet, g.quiet);
        if (g.soon >= 0 && (f.soon < 0 || g.soon < f.soon)) f.soon = g.soon;
        if (!f.busy) f.busy = g.busy;
      }
      return f;
    },
    text, shown, squash, deepActive,
  })});
})()"#;

/// What [`INIT_JS`] needs at its top: the timer horizon.
pub(super) fn init_js() -> String {
    INIT_JS.replace("HORIZON", &TIMER_HORIZON_MS.to_string())
}

/// The page's own view of whether it is still working: ms since the document last changed
/// (or a short timer last fired), ms until the next short timer is due (−1: none), and the
/// text of a busy indicator on show (empty: none).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(super) struct Facts {
    pub quiet: f64,
    pub soon: f64,
    pub busy: String,
}

impl Facts {
    /// A page without the init script (a document that refused it) is taken as quiet.
    pub(super) fn quiet_page() -> Self {
        Facts {
            quiet: f64::MAX,
            soon: -1.0,
            busy: String::new(),
        }
    }
}

/// `facts` of the page now, re-arming the change signal in the same task.
pub(super) const FACTS_JS: &str = "(() => { const n = window.__nocall; if (!n) return null; \
     const f = n.facts(); n.arm(); return f; })()";

/// Looks for text in the page (shadow roots included) and reports the page's facts, then
/// re-arms the change signal, all in one task.
/// The page's whole text comes back only `withAll` (the runner joins it with its
/// out-of-process frames' text): a huge page is not sent again at every unmet look.
pub(super) const EXPECT_JS: &str = r#"(text, absent, withAll) => {
  const n = window.__nocall;
  const norm = s => (s || '').replace(/\s+/g, ' ').trim().toLowerCase();
  const all = norm(n ? n.text() : (document.body ? document.body.innerText : ''));
  const has = s => all.includes(norm(s));
  const met = (!text || has(text)) && (!absent || !has(absent));
  let shown = '';
  if (!met) {
    // Only what is drawn: a hidden element's innerText is its whole text content.
    const seen = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
    const main = ['[role=alert]', '.error', '.alert', 'main'].flatMap(q => [...document.querySelectorAll(q)]).find(e => seen(e) && e.innerText.trim());
    shown = main ? main.innerText : (n ? n.text() : '');
    shown = shown.replace(/\s+/g, ' ').trim().slice(0, 200);
  }
  const facts = n ? n.facts() : null;
  if (n) n.arm();
  return {met, text_seen: !text || has(text), shown, facts, all: met || !withAll ? '' : all};
}"#;

/// What [`EXPECT_JS`] answers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct Seen {
    pub met: bool,
    pub text_seen: bool,
    pub shown: String,
    pub facts: Option<Facts>,
    /// All the page's text, normalised as [`norm`] does (only when not met).
    pub all: String,
}

/// The page's text, shadow roots included.
pub(super) const TEXT_JS: &str =
    "window.__nocall ? window.__nocall.text() : (document.body ? document.body.innerText : '')";

/// Text as [`EXPECT_JS`] compares it: spaces collapsed, lower case.
pub(super) fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Called on the element a step acts on, with what the step needs of it (`click`, `fill`
/// or `choose`): is it actionable now, and if not, why not. Scrolls it into view when it is
/// out of it; waits two animation frames only when an animation runs on it or above it.
pub(super) const PROBE_JS: &str = r#"async function (need) {
  const n = window.__nocall;
  const squash = s => (s || '').replace(/\s+/g, ' ').trim();
  const facts = () => { const f = n ? n.facts() : null; if (n) n.arm(); return f; };
  const up = e => e.assignedSlot || e.parentElement || (e.parentNode instanceof ShadowRoot ? e.parentNode.host : null);
  const inside = (e, outer) => { for (let x = e; x; x = up(x)) if (x === outer) return true; return false; };
  const box = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 ? r : null; };
  const short = s => { s = squash(s); if (s.length <= 40) return s; const w = s.split(' ');
    return w.length > 4 ? w.slice(0, 3).join(' ') + ' … ' + w[w.length - 1] : s.slice(0, 40) + '…'; };
  const dialogText = () => { const d = [...document.querySelectorAll('dialog[open],[role=dialog],[role=alertdialog],[aria-modal=true]')].find(e => box(e)); return d ? short(d.innerText) : ''; };
  const describe = e => {
    const t = short(e.innerText);
    if (t) return t;
    const l = e.getAttribute && e.getAttribute('aria-label');
    if (l) return short(l);
    const d = dialogText();
    if (d) return d;
    return '<' + e.localName + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '') + '>';
  };
  let el = this;
  if (!el.isConnected) return {state: 'detached'};
  const labels = el.labels ? [...el.labels] : [];
  // A custom-styled radio or checkbox hides its input and shows its label.
  if (!box(el) && need !== 'fill') el = labels.find(box) || el;
  const visible = !!box(el) && (!el.checkVisibility || el.checkVisibility({visibilityProperty: true}));
  if (!visible) return {state: 'hidden', facts: facts()};
  let dis = this.matches(':disabled');
  for (let x = this; x && !dis; x = up(x)) if (x.getAttribute && x.getAttribute('aria-disabled') === 'true') dis = true;
  if (dis) {
    const root = this.getRootNode();
    const scope = (this.form && this.form.getRootNode() === root) ? this.form : root;
    const msgs = [];
    const add = e => { if (e && n && n.shown(e)) { const t = squash(e.innerText).slice(0, 120); if (t && !msgs.includes(t)) msgs.push(t); } };
    for (const e of scope.querySelectorAll('[role=alert],[aria-live],.error,.invalid-feedback')) add(e);
    for (const f of scope.querySelectorAll('[aria-invalid=true],:invalid')) for (const a of ['aria-describedby', 'aria-errormessage'])
      for (const id of (f.getAttribute(a) || '').split(/\s+/).filter(Boolean)) add(root.getElementById ? root.getElementById(id) : null);
    return {state: 'disabled', messages: msgs.slice(0, 3), facts: facts()};
  }
  if (need === 'fill' && this.readOnly === true) return {state: 'readonly', facts: facts()};
  // Behind an `inert` region or outside the modal dialog on show: a person cannot reach it.
  const modal = document.querySelector('dialog:modal');
  if (this.closest('[inert]') || (modal && !inside(this, modal)))
    return {state: 'inert', cover: modal ? short(modal.innerText) : dialogText(), facts: facts()};
  let r = box(el);
  const vw = window.innerWidth, vh = window.innerHeight;
  if (r.bottom <= 0 || r.top >= vh || r.right <= 0 || r.left >= vw || r.top < 0 || r.bottom > vh) {
    el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
    r = box(el) || r;
  }
  let moving = false;
  for (let x = el; x && !moving; x = up(x)) moving = x.getAnimations && x.getAnimations().some(a => a.playState === 'running');
  if (moving) {
    await new Promise(d => requestAnimationFrame(() => requestAnimationFrame(d)));
    const r2 = box(el);
    if (!r2 || r2.x !== r.x || r2.y !== r.y || r2.width !== r.width || r2.height !== r.height) return {state: 'moving', facts: facts()};
    r = r2;
  }
  // A link wrapped over two lines has the gap between them at its box's middle: aim at
  // the middle of its first piece instead, as a person would.
  const piece = [...el.getClientRects()].find(q => q.width > 1 && q.height > 1) || r;
  const x = Math.min(Math.max((piece.left + piece.right) / 2, 0), vw - 1);
  const y = Math.min(Math.max((piece.top + piece.bottom) / 2, 0), vh - 1);
  let hit = document.elementFromPoint(x, y);
  while (hit && hit.shadowRoot) { const h = hit.shadowRoot.elementFromPoint(x, y); if (!h || h === hit) break; hit = h; }
  const mine = hit && (inside(hit, el) || inside(hit, this) || labels.some(l => inside(hit, l)));
  if (hit && !mine) {
    let cover = hit;
    for (let p = up(cover); p && !inside(this, p); p = up(p)) cover = p;
    return {state: 'covered', cover: describe(cover), facts: facts()};
  }
  // In a frame of its parent's origin: the point in each parent's viewport, out to the
  // document of the session (nocall places frames of other origins), and whether the frame
  // is reachable there: scrolled into view, not behind a modal, not covered.
  let ax = x, ay = y, w = window;
  for (let depth = 0; depth < 10; depth++) {
    let f = null;
    try { if (w.parent === w) break; f = w.frameElement; } catch (e) { f = null; }
    if (!f) break;
    const pd = f.ownerDocument, pw = pd.defaultView;
    let fr = f.getBoundingClientRect();
    const cs = pw.getComputedStyle(f);
    const left = () => fr.left + f.clientLeft + (parseFloat(cs.paddingLeft) || 0);
    const top = () => fr.top + f.clientTop + (parseFloat(cs.paddingTop) || 0);
    if (left() + ax < 0 || left() + ax >= pw.innerWidth || top() + ay < 0 || top() + ay >= pw.innerHeight) {
      f.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
      fr = f.getBoundingClientRect();
    }
    ax += left(); ay += top();
    const pm = pd.querySelector('dialog:modal');
    if (f.closest('[inert]') || (pm && !inside(f, pm)))
      return {state: 'inert', cover: pm ? short(pm.innerText) : '', facts: facts()};
    let ph = pd.elementFromPoint(ax, ay);
    while (ph && ph.shadowRoot) { const h = ph.shadowRoot.elementFromPoint(ax, ay); if (!h || h === ph) break; ph = h; }
    if (ph && !inside(ph, f)) {
      let cover = ph;
      for (let p = up(cover); p && !inside(f, p); p = up(p)) cover = p;
      return {state: 'covered', cover: describe(cover), facts: facts()};
    }
    w = pw;
  }
  return {state: 'ready', x: ax, y: ay};
}"#;

/// Called on the element a click is meant for, just before the mouse is pressed: listens,
/// in the capture phase of its window and of each window around it that nocall may read,
/// for the press. If the press lands on anything but the element (or its label) — a layout
/// shift between the probe and the press — that press, its release and its click are
/// stopped before the page sees them, and what received it is kept for [`VERDICT_JS`].
/// Listening again first removes what an earlier call left.
pub(super) const ARM_JS: &str = r#"function () {
  const el = this, key = Symbol.for('nocall.press');
  const up = e => e.assignedSlot || e.parentElement || (e.parentNode instanceof ShadowRoot ? e.parentNode.host : null);
  const inside = (e, outer) => { for (let x = e; x; x = up(x)) if (x === outer) return true; return false; };
  const labels = el.labels ? [...el.labels] : [];
  const squash = s => (s || '').replace(/\s+/g, ' ').trim();
  const describe = e => {
    if (!e || e.nodeType !== 1) return 'nothing';
    const t = squash(e.innerText || (e.getAttribute && e.getAttribute('aria-label')) || e.value);
    if (t) return t.length <= 40 ? t : t.slice(0, 40) + '…';
    return '<' + e.localName + (e.id ? '#' + e.id : '') + '>';
  };
  const wins = [];
  let w = el.ownerDocument.defaultView;
  for (let depth = 0; w && depth < 10; depth++) {
    wins.push(w);
    let f = null;
    try { if (w.parent === w) break; f = w.frameElement; } catch (e) { f = null; }
    if (!f) break;
    w = f.ownerDocument.defaultView;
  }
  for (const x of wins) { try { const off = x[key]; if (off) off(); } catch (e) {} }
  const own = wins[0];
  const CONTROL = 'a[href],button,input,select,textarea,label,summary,[role=button],[role=link],[role=checkbox],[role=radio],[role=tab],[role=menuitem],[onclick]';
  const st = {decided: false, blocked: false, by: '', clicked: false};
  const types = ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click'];
  const handlers = wins.map(x => ev => {
    const t = ev.composedPath ? ev.composedPath()[0] : ev.target;
    const mine = x === own && t && (inside(t, el) || labels.some(l => inside(t, l)));
    if (!st.decided && (ev.type === 'pointerdown' || ev.type === 'mousedown')) {
      st.decided = true;
      if (!mine) { st.blocked = true; st.by = describe(t); }
    }
    // A click that reached the element, or any control a replacement of it may be.
    if (ev.type === 'click' && x === own && (mine || (t && t.closest && t.closest(CONTROL)))) st.clicked = true;
    if (st.blocked) { ev.preventDefault(); ev.stopImmediatePropagation(); }
  });
  const off = () => {
    wins.forEach((x, i) => { for (const t of types) x.removeEventListener(t, handlers[i], true);
      try { delete x[key]; } catch (e) {} });
  };
  wins.forEach((x, i) => { for (const t of types) x.addEventListener(t, handlers[i], true);
    Object.defineProperty(x, key, {value: off, configurable: true, writable: true, enumerable: false}); });
  Object.defineProperty(el, key, {value: st, configurable: true, writable: true, enumerable: false});
  st.off = off;
  return true;
}"#;

/// Called on the same element after the press and release: stops listening and says
/// whether the press reached it. `intercepted` names what received it instead; `replaced`
/// means the page swapped the element out between press and release; `unseen`
/// means no press reached any window nocall listened in (a page that stops every press
/// before nocall's listener, or a cover outside them), which is not held against the click.
pub(super) const VERDICT_JS: &str = r#"function () {
  const key = Symbol.for('nocall.press');
  const st = this[key];
  if (!st) return {state: 'unseen'};
  st.off();
  try { delete this[key]; } catch (e) {}
  if (!st.decided) return {state: 'unseen'};
  if (st.blocked) return {state: 'intercepted', by: st.by};
  // Pressed, then replaced before the release (a re-rendering app): the browser sends the
  // click to what both had in common, so the control never received it.
  if (!st.clicked && !this.isConnected) return {state: 'replaced'};
  return {state: 'hit'};
}"#;

/// Null when the element at `(x, y)` of the tab's page is a frame (the one a step acts
/// in); else what is there instead, as a person would name it.
pub(super) const COVERS_FRAME_JS: &str = r#"(x, y) => {
  const e = document.elementFromPoint(x, y);
  if (!e || e.localName === 'iframe' || e.localName === 'frame') return null;
  let t = (e.innerText || e.getAttribute('aria-label') || '').replace(/\s+/g, ' ').trim();
  if (!t) { const d = document.querySelector('dialog[open],[role=dialog],[aria-modal=true]'); t = d ? d.innerText.replace(/\s+/g, ' ').trim() : '<' + e.localName + '>'; }
  const w = t.split(' ');
  return t.length <= 40 ? t : (w.length > 4 ? w.slice(0, 3).join(' ') + ' … ' + w[w.length - 1] : t.slice(0, 40) + '…');
}"#;

/// What [`PROBE_JS`] answers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct Probe {
    /// `ready`, `detached`, `hidden`, `disabled`, `readonly`, `inert`, `moving` or `covered`.
    pub state: String,
    pub x: f64,
    pub y: f64,
    /// What covers the control (`covered`, `inert`).
    pub cover: String,
    /// The page's visible validation messages (`disabled`).
    pub messages: Vec<String>,
    pub facts: Option<Facts>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_answers_decode_with_their_facts() {
        let p: Probe = serde_json::from_value(serde_json::json!({
            "state": "covered", "cover": "We use cookies … Accept",
            "facts": {"quiet": 812.5, "soon": -1, "busy": ""}
        }))
        .unwrap();
        assert_eq!(p.state, "covered");
        assert_eq!(p.cover, "We use cookies … Accept");
        assert_eq!(p.facts.unwrap().soon, -1.0);
        let p: Probe =
            serde_json::from_value(serde_json::json!({"state": "ready", "x": 10, "y": 20.5}))
                .unwrap();
        assert_eq!((p.x, p.y), (10.0, 20.5));
        assert!(p.facts.is_none());
        let s: Seen = serde_json::from_value(
            serde_json::json!({"met": false, "shown": "Loading…", "facts": null}),
        )
        .unwrap();
        assert!(!s.met && s.facts.is_none());
    }

    #[test]
    fn the_timer_horizon_is_written_into_the_init_script() {
        let js = init_js();
        assert!(js.contains("delay <= 1000"));
        assert!(!js.contains("HORIZON"));
    }
}
