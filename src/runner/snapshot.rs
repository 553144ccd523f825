//! What the user sees, built from the browser's own view of the page.
//!
//! A pure function of three answers the browser gave — the DOM tree (`DOM.getDocument`),
//! the accessibility tree (`Accessibility.getFullAXTree`) and a few page facts
//! (`Runtime.evaluate`) — so it is tested from recorded JSON without a browser. Accessible
//! names are taken from Chromium, never recomputed: that is what a screen reader announces
//! and what the label checks judge.

use std::collections::HashMap;

use serde_json::Value;

use crate::config::Limits;
use crate::trace::{
    Control, Cut, Field, Form, FrameInfo, Link, NameSource, OrphanLabel, PageState, RecordLimit,
    Recording,
};

/// Facts only the page's own script can tell.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct PageInfo {
    pub url: String,
    pub title: String,
    pub lang: String,
    /// The visible text, at most `limits.text_chars` of it.
    pub text: String,
    /// The browser's own navigation time for this document (load event end), ms.
    pub load_ms: f64,
    /// The document runs nocall's init script, so its change signal can be trusted.
    pub watched: bool,
    /// How big the document is, measured in the page before anything is read of it.
    pub gauge: Gauge,
}

/// The size of a document, counted by the page's own script (shadow roots and frames not
/// counted): what decides whether it is read whole or walked up to the limits.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct Gauge {
    pub elements: usize,
    /// Characters of visible text.
    pub text: usize,
    /// Characters of text in the document, scripts and hidden text included: what
    /// `DOM.getDocument` would send.
    pub raw_text: usize,
    pub links: usize,
    pub controls: usize,
    /// Elements nest deeper than [`MAX_DEPTH`].
    pub deep: bool,
}

/// Levels of nested elements walked (a shadow root or a frame's document counts as two,
/// as it nests twice in the answer). The browser's answers are parsed with serde_json's
/// nesting limit (128: two levels an element), so a deeper tree could not be read at all;
/// real pages nest 20 to 40 deep.
pub(super) const MAX_DEPTH: usize = 48;

/// A document whose text, scripts included, is this many times the visible-text limit is
/// walked rather than read whole: a 50 MB answer must not come back as one 50 MB string.
const RAW_TEXT_FACTOR: usize = 8;

/// Elements above which a document is walked in the page even within the limits. Read
/// whole, the browser's two trees cost nocall about 10 KB an element (the accessibility
/// tree's text boxes most), so 20 000 elements read whole would be 200 MiB; walked, only the
/// elements the runner acts on are asked about.
const WALK_ABOVE: usize = 5_000;

impl Gauge {
    /// Whether the document is read through [`walk_js`] (capped in the page) instead of
    /// `DOM.getDocument` and `Accessibility.getFullAXTree` (whole).
    pub(super) fn too_big(&self, limits: &Limits) -> bool {
        self.deep
            || self.elements > limits.dom_nodes.min(WALK_ABOVE)
            || self.links > limits.links_per_page
            || self.controls > limits.controls_per_page
            || self.raw_text > limits.text_chars.saturating_mul(RAW_TEXT_FACTOR)
    }
}

/// The expression that produces [`PageInfo`], its text cut at `text_chars`. It re-arms the
/// page's change signal, so a change after this look marks the page as changed (see
/// `inpage::INIT_JS`).
pub(super) fn page_info_js(text_chars: usize) -> String {
    format!("({PAGE_INFO_JS})({text_chars}, {MAX_DEPTH})")
}

const PAGE_INFO_JS: &str = r#"(maxText, maxDepth) => {
  const n = window.__nocall;
  if (n) n.arm();
  const nav = performance.getEntriesByType('navigation')[0];
  const d = document;
  let text = n ? n.text() : (d.body ? d.body.innerText : '');
  const textLen = text.length;
  if (text.length > maxText) {
    let end = maxText;
    const c = text.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end -= 1;
    text = text.slice(0, end);
  }
  let deep = false;
  try { deep = !!d.querySelector(':root' + ' > *'.repeat(maxDepth)); } catch (e) {}
  return {
    url: location.href,
    title: (d.title || '').slice(0, 2000),
    lang: ((d.documentElement && d.documentElement.lang) || '').slice(0, 100),
    text,
    load_ms: nav ? Math.max(nav.loadEventEnd, nav.domContentLoadedEventEnd) - nav.startTime : 0,
    watched: !!n,
    gauge: {
      elements: d.getElementsByTagName('*').length,
      text: textLen,
      raw_text: d.documentElement ? (d.documentElement.textContent || '').length : 0,
      links: d.querySelectorAll('a[href], area[href]').length,
      controls: d.querySelectorAll('input:not([type=hidden]), select, textarea, button, [role=button]').length,
      deep,
    },
  };
}"#;

/// Walks a document too big to read whole ([`Gauge::too_big`]) in the page itself, up to
/// the limits, and answers `[walked, picks]`: the walked tree in the shape `DOM.getDocument`
/// gives (so [`build`] reads it the same way; the browser serialises it, not the page's own
/// `JSON`, which a page may have replaced), and the elements the runner
/// acts on (links, fields, buttons), whose placeholder `backendNodeId` is `-(1 + index)`
/// into `picks`. Open shadow roots and frames of the page's origin are walked; scripts and
/// styles are not, nor closed shadow roots (which only `DOM.getDocument` reaches).
/// Links and controls past their limits lose what makes them one (`href`, their tag), so
/// nothing past a limit is recorded. Never changes the page.
pub(super) fn walk_js(limits: &Limits) -> String {
    format!(
        "({WALK_JS})({{nodes: {}, text: {}, links: {}, controls: {}, depth: {MAX_DEPTH}}})",
        limits.dom_nodes, limits.text_chars, limits.links_per_page, limits.controls_per_page
    )
}

const WALK_JS: &str = r#"(lim) => {
  let nodes = 0, text = 0, links = 0, controls = 0;
  let cutNodes = false, cutText = false, cutDepth = false;
  const picks = [];
  const skip = new Set(['script', 'style', 'template', 'noscript']);
  const isControl = e => ['input', 'select', 'textarea', 'button'].includes(e.localName) || e.getAttribute('role') === 'button';
  const root = {nodeType: 9, documentURL: document.URL, baseURL: document.baseURI, children: []};
  const stack = [];
  if (document.documentElement) stack.push([document.documentElement, root.children, 1]);
  const pushAll = (list, out, depth) => { for (let i = list.length - 1; i >= 0; i--) stack.push([list[i], out, depth]); };
  while (stack.length) {
    const [node, out, depth] = stack.pop();
    if (node.nodeType === 3) {
      if (text >= lim.text) { cutText = true; continue; }
      let v = node.nodeValue || '';
      if (v.length > lim.text - text) { v = v.slice(0, lim.text - text); cutText = true; }
      text += v.length;
      out.push({nodeType: 3, nodeValue: v});
      continue;
    }
    if (node.nodeType !== 1) continue;
    if (nodes >= lim.nodes) { cutNodes = true; break; }
    nodes += 1;
    let tag = node.localName;
    const link = (tag === 'a' || tag === 'area') && node.hasAttribute('href');
    const control = !link && isControl(node);
    let pick = false, keep = true;
    if (link) { if (links < lim.links) { links += 1; pick = true; } else keep = false; }
    else if (control) { if (controls < lim.controls) { controls += 1; pick = true; } else keep = false; }
    if (!keep && control) tag = 'span';
    const attrs = [];
    for (const a of node.attributes) {
      if (!keep && (a.name === 'href' || a.name === 'role')) continue;
      attrs.push(a.name, a.value.length > 2000 ? a.value.slice(0, 2000) : a.value);
    }
    const me = {nodeType: 1, localName: tag, attributes: attrs, children: []};
    if (pick) { picks.push(node); me.backendNodeId = -picks.length; }
    out.push(me);
    if (skip.has(tag)) continue;
    if (depth >= lim.depth) { cutDepth = true; continue; }
    pushAll(node.childNodes, me.children, depth + 1);
    if (tag === 'iframe' || tag === 'frame') {
      // A frame of the page's own origin is read as DOM.getDocument (pierce) gives it.
      let cd = null;
      try { cd = node.contentDocument; } catch (e) {}
      if (cd && cd.documentElement) {
        const doc = {nodeType: 9, documentURL: cd.URL, baseURL: cd.baseURI, children: []};
        me.contentDocument = doc;
        stack.push([cd.documentElement, doc.children, depth + 2]);
      }
    }
    const sr = node.shadowRoot;
    if (sr) {
      const r = {nodeType: 11, shadowRootType: 'open', children: []};
      me.shadowRoots = [r];
      pushAll(sr.childNodes, r.children, depth + 2);
    }
  }
  return [{root, nodes, text, links, controls, cutNodes, cutText, cutDepth}, picks];
}"#;

/// What [`walk_js`] answers, its first half.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Walked {
    pub root: Value,
    pub nodes: usize,
    pub text: usize,
    pub links: usize,
    pub controls: usize,
    pub cut_nodes: bool,
    pub cut_text: bool,
    pub cut_depth: bool,
}

impl Walked {
    /// The limits the walk reached, with the page's own counts.
    pub(super) fn cuts(&self, gauge: &Gauge, limits: &Limits) -> Vec<Cut> {
        let mut cuts = Vec::new();
        if self.cut_nodes {
            cuts.push(Cut {
                limit: RecordLimit::DomNodes,
                kept: self.nodes,
                seen: gauge.elements.max(self.nodes + 1),
            });
        }
        // Visible text past the limit is told from the gauge (see [`text_cut`]); text the
        // walk left out beyond the visible text's limit is the same limit, reached in the
        // document's hidden text or scripts.
        if self.cut_text && gauge.text <= limits.text_chars {
            cuts.push(Cut {
                limit: RecordLimit::TextChars,
                kept: self.text,
                seen: gauge.raw_text.max(self.text + 1),
            });
        }
        if self.cut_depth {
            cuts.push(Cut {
                limit: RecordLimit::Depth,
                kept: MAX_DEPTH,
                seen: MAX_DEPTH + 1,
            });
        }
        if self.links >= limits.links_per_page && gauge.links > self.links {
            cuts.push(Cut {
                limit: RecordLimit::LinksPerPage,
                kept: self.links,
                seen: gauge.links,
            });
        }
        if self.controls >= limits.controls_per_page && gauge.controls > self.controls {
            cuts.push(Cut {
                limit: RecordLimit::ControlsPerPage,
                kept: self.controls,
                seen: gauge.controls,
            });
        }
        cuts
    }
}

/// The visible text's cut, when the page shows more than `limits.text_chars`.
pub(super) fn text_cut(gauge: &Gauge, limits: &Limits) -> Option<Cut> {
    (gauge.text > limits.text_chars).then_some(Cut {
        limit: RecordLimit::TextChars,
        kept: limits.text_chars,
        seen: gauge.text,
    })
}

/// Gives the walked tree's picked elements the backend ids the browser gave them
/// (`ids[k]` for placeholder `-(k + 1)`); a pick the browser could not name gets 0, which
/// no action finds. Iterative: the tree is as deep as [`MAX_DEPTH`] allows.
pub(super) fn place_ids(root: &mut Value, ids: &[i64]) {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if let Some(id) = node.get_mut("backendNodeId")
            && let Some(k) = id.as_i64().filter(|k| *k < 0)
        {
            let real = usize::try_from(-k - 1)
                .ok()
                .and_then(|k| ids.get(k))
                .copied()
                .unwrap_or(0);
            *id = Value::from(real);
        }
        let Value::Object(map) = node else { continue };
        for (key, child) in map.iter_mut() {
            match (key.as_str(), child) {
                ("children" | "shadowRoots", Value::Array(list)) => stack.extend(list.iter_mut()),
                ("contentDocument", doc) => stack.push(doc),
                _ => {}
            }
        }
    }
}

/// A page state plus the DOM nodes behind its fields, buttons and links, so the runner can
/// act on what a check will later read about.
#[derive(Debug, Clone, Default)]
pub(super) struct Snapshot {
    pub page: PageState,
    pub field_nodes: Vec<i64>,
    pub button_nodes: Vec<i64>,
    pub link_nodes: Vec<i64>,
    /// For each field, button and link: the session of the frame it lives in (`None`: the
    /// tab's own document). Backend node ids are unique within one session only.
    pub field_sessions: Vec<Option<String>>,
    pub button_sessions: Vec<Option<String>>,
    pub link_sessions: Vec<Option<String>>,
    /// The limits this record reached (see [`Snapshot::cap`]).
    pub cuts: Vec<Cut>,
}

impl Snapshot {
    /// What the step's trace says of this record: `None` when it is whole.
    pub(super) fn recording(&self) -> Option<Recording> {
        Recording::cut(&self.cuts)
    }

    /// Keeps the first `links_per_page` links and `controls_per_page` fields and buttons
    /// (fields first), noting each limit reached. Field, button and link indexes of what is
    /// kept stay as they were.
    pub(super) fn cap(&mut self, limits: &Limits) {
        let links = self.page.links.len();
        if links > limits.links_per_page {
            let keep = limits.links_per_page;
            self.page.links.truncate(keep);
            self.link_nodes.truncate(keep);
            self.link_sessions.truncate(keep);
            self.note(Cut {
                limit: RecordLimit::LinksPerPage,
                kept: keep,
                seen: links,
            });
        }
        let (fields, buttons) = (self.page.fields.len(), self.page.buttons.len());
        if fields + buttons > limits.controls_per_page {
            let keep_fields = fields.min(limits.controls_per_page);
            let keep_buttons = limits.controls_per_page - keep_fields;
            self.page.fields.truncate(keep_fields);
            self.field_nodes.truncate(keep_fields);
            self.field_sessions.truncate(keep_fields);
            self.page.buttons.truncate(keep_buttons);
            self.button_nodes.truncate(keep_buttons);
            self.button_sessions.truncate(keep_buttons);
            self.note(Cut {
                limit: RecordLimit::ControlsPerPage,
                kept: limits.controls_per_page,
                seen: fields + buttons,
            });
        }
    }

    /// Adds a limit reached; one entry a limit, the largest count seen.
    pub(super) fn note(&mut self, cut: Cut) {
        match self.cuts.iter_mut().find(|c| c.limit == cut.limit) {
            Some(c) => {
                c.seen = c.seen.max(cut.seen);
                c.kept = c.kept.max(cut.kept);
            }
            None => self.cuts.push(cut),
        }
    }

    /// Adds what a frame in a process of its own shows (its own snapshot) to the page's:
    /// its elements carry the frame's address, and act through its session.
    pub(super) fn add_frame(&mut self, frame: Snapshot, session: &str, top_url: &str) {
        let url = frame.page.url.clone();
        let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
        let cross_origin = origin(&url) != origin(top_url);
        let forms = self.page.forms.len();
        let at = |mut f: Option<usize>| {
            if let Some(i) = f.as_mut() {
                *i += forms;
            }
            f
        };
        let s = || Some(session.to_string());
        for mut f in frame.page.fields {
            f.frame = url.clone();
            f.form = at(f.form);
            self.page.fields.push(f);
            self.field_sessions.push(s());
        }
        for mut b in frame.page.buttons {
            b.frame = url.clone();
            b.form = at(b.form);
            self.page.buttons.push(b);
            self.button_sessions.push(s());
        }
        for mut l in frame.page.links {
            l.frame = url.clone();
            self.page.links.push(l);
            self.link_sessions.push(s());
        }
        self.field_nodes.extend(frame.field_nodes);
        self.button_nodes.extend(frame.button_nodes);
        self.link_nodes.extend(frame.link_nodes);
        for cut in frame.cuts {
            self.note(cut);
        }
        self.page.forms.extend(frame.page.forms);
        self.page.orphan_labels.extend(frame.page.orphan_labels);
        if !frame.page.text.trim().is_empty() {
            self.page.text.push('\n');
            self.page.text.push_str(&frame.page.text);
        }
        self.page.frames.push(FrameInfo {
            url,
            cross_origin,
            out_of_process: true,
        });
    }
}

#[derive(Debug, Default)]
struct Element {
    backend: i64,
    tag: String,
    attrs: Vec<(String, String)>,
    /// The parent in the composed tree: a shadow root's children have its host.
    parent: Option<usize>,
    text: String,
    /// The tree scope: 0 for the document, one number for each shadow root. Ids, `<label
    /// for>` and forms work within one scope, as in the browser.
    scope: usize,
    /// The shadow hosts around it, outermost first (`hb-app > hb-sign-in`).
    host: String,
    /// The frame document it lives in: 0 for the page's own, else 1 + its index in
    /// [`Frames::urls`] (a frame in the page's process, read through `contentDocument`).
    frame: usize,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn has(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }
}

#[derive(Debug, Default, Clone)]
struct AxInfo {
    role: String,
    name: String,
    source: NameSource,
    ignored: bool,
    required: bool,
    disabled: bool,
}

/// Builds the page state. `document` is `DOM.getDocument`'s `root`; `ax_nodes` is
/// `Accessibility.getFullAXTree`'s `nodes`.
// Every field of the trace's records is set today; `..default()` stays so a field added to
// them later is not a compile error here.
#[allow(clippy::needless_update)]
pub(super) fn build(
    document: &Value,
    ax_nodes: &Value,
    info: PageInfo,
    status: Option<u16>,
) -> Snapshot {
    let base = document
        .get("baseURL")
        .and_then(Value::as_str)
        .or_else(|| document.get("documentURL").and_then(Value::as_str))
        .and_then(|u| url::Url::parse(u).ok())
        .or_else(|| url::Url::parse(&info.url).ok());
    let mut elements = Vec::new();
    let top = At {
        parent: None,
        scope: 0,
        host: "",
        frame: 0,
    };
    let mut frames = Frames::default();
    flatten(document, top, &mut 0, &mut frames, &mut elements);
    let frame_url = |e: &Element| -> String {
        e.frame
            .checked_sub(1)
            .and_then(|i| frames.urls.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let ax = ax_index(ax_nodes);
    // Addresses in a frame's document are relative to that document.
    let frame_bases: Vec<Option<url::Url>> = frames
        .urls
        .iter()
        .map(|u| url::Url::parse(u).ok())
        .collect();
    let resolve = |e: &Element, href: &str| -> String {
        let base = match e.frame.checked_sub(1) {
            Some(i) => frame_bases.get(i).and_then(Option::as_ref),
            None => base.as_ref(),
        };
        match base {
            Some(b) => b
                .join(href.trim())
                .map(|u| u.to_string())
                .unwrap_or_else(|_| href.to_string()),
            None => href.to_string(),
        }
    };

    let mut snap = Snapshot::default();
    let forms: Vec<usize> = (0..elements.len())
        .filter(|&i| elements[i].tag == "form")
        .collect();
    let form_of = |i: usize| -> Option<usize> {
        if let Some(id) = elements[i].attr("form") {
            let scope = elements[i].scope;
            return forms
                .iter()
                .position(|&f| elements[f].scope == scope && elements[f].attr("id") == Some(id));
        }
        let a = ancestor_in_scope(&elements, i, |e| e.tag == "form")?;
        forms.iter().position(|&f| f == a)
    };
    for &f in &forms {
        let e = &elements[f];
        let action = e
            .attr("action")
            .filter(|a| !a.trim().is_empty())
            .map(|a| resolve(e, a));
        snap.page.forms.push(Form {
            action: action.unwrap_or_else(|| match e.frame {
                0 => info.url.clone(),
                _ => frame_url(e),
            }),
            method: e.attr("method").unwrap_or("get").to_ascii_lowercase(),
            id: e.attr("id").unwrap_or_default().to_string(),
        });
    }
    let ids: Ids<'_> = elements
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.attr("id").map(|id| ((e.scope, id), i)))
        .collect();

    for (i, e) in elements.iter().enumerate() {
        let a = ax.get(&e.backend);
        let visible = a.is_some_and(|a| !a.ignored);
        let disabled = a.is_some_and(|a| a.disabled)
            || e.has("disabled")
            || e.attr("aria-disabled") == Some("true");
        match e.tag.as_str() {
            "input" | "select" | "textarea" => {
                let input_type = if e.tag == "input" {
                    e.attr("type").unwrap_or("text").to_ascii_lowercase()
                } else {
                    String::new()
                };
                if matches!(input_type.as_str(), "submit" | "button" | "reset" | "image") {
                    snap.button_nodes.push(e.backend);
                    snap.page.buttons.push(Control {
                        name: a
                            .map(|a| a.name.clone())
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| e.attr("value").unwrap_or_default().to_string()),
                        role: "button".into(),
                        button_type: input_type,
                        form: form_of(i),
                        target: None,
                        visible,
                        disabled,
                        host: e.host.clone(),
                        frame: frame_url(e),
                        ..Control::default()
                    });
                    continue;
                }
                if input_type == "hidden" {
                    continue;
                }
                let tie = label_of(&elements, &ids, i);
                let label = tie.as_ref().map(|(text, _)| text.clone());
                let by_for = tie.is_some_and(|(_, by_for)| by_for);
                let options = if e.tag == "select" {
                    elements
                        .iter()
                        .enumerate()
                        .filter(|(j, o)| {
                            o.tag == "option"
                                && ancestor(&elements, *j, |p| p.backend == e.backend).is_some()
                        })
                        .map(|(_, o)| collapse(&o.text))
                        .collect()
                } else {
                    Vec::new()
                };
                let group = ancestor_in_scope(&elements, i, |p| p.tag == "fieldset")
                    .and_then(|fs| {
                        elements
                            .iter()
                            .enumerate()
                            .find(|(j, l)| l.tag == "legend" && elements[*j].parent == Some(fs))
                            .map(|(_, l)| collapse(&l.text))
                    })
                    .unwrap_or_default();
                snap.field_nodes.push(e.backend);
                snap.page.fields.push(Field {
                    name: a.map(|a| a.name.clone()).unwrap_or_default(),
                    name_source: a.map(|a| a.source).unwrap_or_default(),
                    role: a.map(|a| a.role.clone()).unwrap_or_default(),
                    tag: e.tag.clone(),
                    input_type,
                    id: e.attr("id").unwrap_or_default().to_string(),
                    html_name: e.attr("name").unwrap_or_default().to_string(),
                    placeholder: e.attr("placeholder").unwrap_or_default().to_string(),
                    autocomplete: e.attr("autocomplete").unwrap_or_default().to_string(),
                    pattern: e.attr("pattern").unwrap_or_default().to_string(),
                    required: e.has("required")
                        || e.attr("aria-required") == Some("true")
                        || a.is_some_and(|a| a.required),
                    beside: if label.is_none() {
                        beside_of(&elements, i).unwrap_or_default()
                    } else {
                        String::new()
                    },
                    label_text: label.clone().unwrap_or_default(),
                    group,
                    form: form_of(i),
                    visible,
                    options,
                    html: excerpt(e, label.as_deref(), by_for),
                    disabled,
                    host: e.host.clone(),
                    frame: frame_url(e),
                    ..Field::default()
                });
            }
            "button" => {
                snap.button_nodes.push(e.backend);
                snap.page.buttons.push(Control {
                    name: a
                        .map(|a| a.name.clone())
                        .unwrap_or_else(|| collapse(&e.text)),
                    role: "button".into(),
                    button_type: e.attr("type").unwrap_or("submit").to_ascii_lowercase(),
                    form: form_of(i),
                    target: None,
                    visible,
                    disabled,
                    host: e.host.clone(),
                    frame: frame_url(e),
                    ..Control::default()
                });
            }
            "a" | "area" if e.has("href") => {
                let href = e.attr("href").unwrap_or_default();
                snap.link_nodes.push(e.backend);
                snap.page.links.push(Link {
                    text: a
                        .map(|a| a.name.clone())
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| collapse(&e.text)),
                    href: resolve(e, href),
                    rel: e.attr("rel").unwrap_or_default().to_string(),
                    region: region(&elements, i),
                    tag: e.tag.clone(),
                    visible,
                    host: e.host.clone(),
                    frame: frame_url(e),
                    ..Link::default()
                });
            }
            "label" => {
                if let Some(target) = e.attr("for").filter(|t| !ids.contains_key(&(e.scope, *t))) {
                    snap.page.orphan_labels.push(OrphanLabel {
                        text: collapse(&e.text),
                        for_id: target.to_string(),
                        host: e.host.clone(),
                    });
                }
            }
            _ => {
                if e.attr("role") == Some("button") {
                    snap.button_nodes.push(e.backend);
                    snap.page.buttons.push(Control {
                        name: a
                            .map(|a| a.name.clone())
                            .unwrap_or_else(|| collapse(&e.text)),
                        role: "button".into(),
                        button_type: String::new(),
                        form: form_of(i),
                        target: None,
                        visible,
                        disabled,
                        host: e.host.clone(),
                        frame: frame_url(e),
                        ..Control::default()
                    });
                }
            }
        }
        // A fragment scrolls to an id in the document's own tree only.
        if e.scope != 0 {
            continue;
        }
        if let Some(id) = e.attr("id") {
            snap.page.anchors.push(id.to_string());
        }
        if e.tag == "a"
            && let Some(name) = e.attr("name")
        {
            snap.page.anchors.push(name.to_string());
        }
    }
    snap.field_sessions = vec![None; snap.field_nodes.len()];
    snap.button_sessions = vec![None; snap.button_nodes.len()];
    snap.link_sessions = vec![None; snap.link_nodes.len()];
    let top_origin = url::Url::parse(&info.url).ok().map(|u| u.origin());
    for url in frames.urls {
        let origin = url::Url::parse(&url).ok().map(|u| u.origin());
        snap.page.frames.push(FrameInfo {
            cross_origin: origin != top_origin,
            url,
            out_of_process: false,
        });
    }
    snap.page.url = info.url;
    snap.page.status = status;
    snap.page.title = info.title;
    snap.page.lang = info.lang;
    snap.page.text = info.text;
    snap
}

/// Where [`flatten`] is in the composed tree.
#[derive(Clone, Copy)]
struct At<'h> {
    parent: Option<usize>,
    scope: usize,
    host: &'h str,
    frame: usize,
}

/// The frames of the page's own process met while flattening, in document order.
#[derive(Default)]
struct Frames {
    urls: Vec<String>,
}

/// The ids of the frames `DOM.getDocument` (with `pierce`) reached into: frames that run in
/// the same process as their page, whose accessibility trees are read one by one
/// (`Accessibility.getFullAXTree` answers for one frame's document only).
pub(super) fn inner_frames(document: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![document];
    while let Some(node) = stack.pop() {
        if out.len() >= MAX_FRAMES {
            break;
        }
        if let (Some(id), Some(doc)) = (
            node.get("frameId").and_then(Value::as_str),
            node.get("contentDocument"),
        ) {
            out.push(id.to_string());
            stack.push(doc);
        }
        for key in ["children", "shadowRoots"] {
            if let Some(list) = node.get(key).and_then(Value::as_array) {
                stack.extend(list.iter().rev());
            }
        }
    }
    out
}

/// Bytes of text kept on each element for its name (a label's, a link's, a legend's).
const ELEMENT_TEXT: usize = 4096;

/// A page nesting frames without end must not cost a read for each.
const MAX_FRAMES: usize = 20;

fn flatten(
    node: &Value,
    at: At<'_>,
    scopes: &mut usize,
    frames: &mut Frames,
    out: &mut Vec<Element>,
) {
    let node_type = node.get("nodeType").and_then(Value::as_u64).unwrap_or(0);
    let mut me = at.parent;
    if node_type == 3 {
        let text = node
            .get("nodeValue")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // Text belongs to every element above it in its own document, for labels and
        // link text: the first ELEMENT_TEXT bytes of it, which is more than any name is
        // read from. An element already full has ancestors as full, so the walk up stops
        // there, and a page's text costs its length, not its length times its depth.
        let mut up = at.parent;
        while let Some(i) = up {
            if let Some(e) = out.get_mut(i).filter(|e| e.frame == at.frame) {
                let room = ELEMENT_TEXT.saturating_sub(e.text.len());
                if room == 0 {
                    break;
                }
                let end = text.floor_char_boundary(text.len().min(room));
                e.text.push_str(&text[..end]);
                up = e.parent;
            } else {
                break;
            }
        }
        return;
    }
    if node_type == 1 {
        let tag = node
            .get("localName")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                node.get("nodeName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            });
        if matches!(tag.as_str(), "script" | "style" | "template" | "noscript") {
            return;
        }
        let attrs = node
            .get("attributes")
            .and_then(Value::as_array)
            .map(|a| {
                a.chunks(2)
                    .filter_map(|kv| match kv {
                        [k, v] => Some((k.as_str()?.to_string(), v.as_str()?.to_string())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Element {
            backend: node
                .get("backendNodeId")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            tag,
            attrs,
            parent: at.parent,
            text: String::new(),
            scope: at.scope,
            host: at.host.to_string(),
            frame: at.frame,
        });
        me = Some(out.len() - 1);
    }
    // A frame in the page's own process: its document is a tree scope of its own, in a
    // frame of its own (its fields carry its address), with no shadow host around it.
    if let Some(doc) = node.get("contentDocument")
        && frames.urls.len() < MAX_FRAMES
    {
        let url = doc
            .get("documentURL")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        frames.urls.push(url);
        *scopes += 1;
        let inner = At {
            parent: me,
            scope: *scopes,
            host: "",
            frame: frames.urls.len(),
        };
        flatten(doc, inner, scopes, frames, out);
    }
    // A shadow root's content comes before the host's own children, as it is drawn
    // around the slotted ones; browser-internal roots (an input's inner editor) are not
    // the page's.
    if let Some(roots) = node.get("shadowRoots").and_then(Value::as_array)
        && let Some(host_index) = me
    {
        for root in roots {
            if root.get("shadowRootType").and_then(Value::as_str) == Some("user-agent") {
                continue;
            }
            *scopes += 1;
            let host_tag = out
                .get(host_index)
                .map(|h| h.tag.clone())
                .unwrap_or_default();
            let host = if at.host.is_empty() {
                host_tag
            } else {
                format!("{} > {host_tag}", at.host)
            };
            let inner = At {
                parent: me,
                scope: *scopes,
                host: &host,
                frame: at.frame,
            };
            for c in root
                .get("children")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                flatten(c, inner, scopes, frames, out);
            }
        }
    }
    if let Some(children) = node.get("children").and_then(Value::as_array) {
        let inner = At { parent: me, ..at };
        for c in children {
            flatten(c, inner, scopes, frames, out);
        }
    }
}

fn ax_index(nodes: &Value) -> HashMap<i64, AxInfo> {
    let mut map = HashMap::new();
    for n in nodes.as_array().map(Vec::as_slice).unwrap_or_default() {
        let Some(backend) = n.get("backendDOMNodeId").and_then(Value::as_i64) else {
            continue;
        };
        let value = |v: Option<&Value>| {
            v.and_then(|v| v.get("value"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let name = value(n.get("name"));
        let property = |name: &str| {
            n.get("properties")
                .and_then(Value::as_array)
                .is_some_and(|ps| {
                    ps.iter().any(|p| {
                        p.get("name").and_then(Value::as_str) == Some(name)
                            && p.pointer("/value/value").and_then(Value::as_bool) == Some(true)
                    })
                })
        };
        let required = property("required");
        let disabled = property("disabled");
        let source = if name.trim().is_empty() {
            NameSource::None
        } else {
            name_source(n.pointer("/name/sources"))
        };
        map.insert(
            backend,
            AxInfo {
                role: value(n.get("role")),
                name: name.trim().to_string(),
                source,
                ignored: n.get("ignored").and_then(Value::as_bool).unwrap_or(false),
                required,
                disabled,
            },
        );
    }
    map
}

/// Which of Chromium's name sources won: the first that has a value and is not superseded.
fn name_source(sources: Option<&Value>) -> NameSource {
    let Some(list) = sources.and_then(Value::as_array) else {
        return NameSource::Other;
    };
    for s in list {
        let has_value = s
            .pointer("/value/value")
            .and_then(Value::as_str)
            .is_some_and(|v| !v.trim().is_empty());
        if !has_value || s.get("superseded").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let kind = s.get("type").and_then(Value::as_str).unwrap_or_default();
        let attribute = s
            .get("attribute")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let native = s
            .get("nativeSource")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return match (kind, attribute, native) {
            (_, "aria-labelledby", _) => NameSource::LabelledBy,
            (_, "aria-label", _) => NameSource::AriaLabel,
            (_, "title", _) => NameSource::Title,
            ("placeholder", _, _) | (_, "placeholder" | "aria-placeholder", _) => {
                NameSource::Placeholder
            }
            (_, _, "labelfor" | "labelwrapped" | "label") => NameSource::Label,
            ("contents", _, _) => NameSource::Contents,
            _ => NameSource::Other,
        };
    }
    NameSource::Other
}

/// Like [`ancestor`], without leaving the element's tree scope (a label or form outside a
/// shadow root does not reach into it).
fn ancestor_in_scope(
    elements: &[Element],
    i: usize,
    pred: impl Fn(&Element) -> bool,
) -> Option<usize> {
    let scope = elements.get(i)?.scope;
    let mut at = elements.get(i).and_then(|e| e.parent);
    while let Some(p) = at {
        let e = elements.get(p)?;
        if e.scope != scope {
            return None;
        }
        if pred(e) {
            return Some(p);
        }
        at = e.parent;
    }
    None
}

fn ancestor(elements: &[Element], i: usize, pred: impl Fn(&Element) -> bool) -> Option<usize> {
    let mut at = elements.get(i).and_then(|e| e.parent);
    while let Some(p) = at {
        let e = elements.get(p)?;
        if pred(e) {
            return Some(p);
        }
        at = e.parent;
    }
    None
}

/// The text of the `<label>` a person would read beside the field, if one is tied to it.
/// `.1`: tied by `for` (else the label wraps the field).
fn label_of(elements: &[Element], ids: &Ids<'_>, i: usize) -> Option<(String, bool)> {
    let e = elements.get(i)?;
    if let Some(id) = e.attr("id").filter(|id| ids.contains_key(&(e.scope, *id)))
        && let Some(l) = elements
            .iter()
            .find(|l| l.tag == "label" && l.scope == e.scope && l.attr("for") == Some(id))
    {
        return Some((collapse(&l.text), true));
    }
    ancestor_in_scope(elements, i, |p| p.tag == "label")
        .map(|l| (collapse(&elements[l].text), false))
}

/// The text a person reads beside a field no label is tied to: the cell before its own in
/// a table row (`<th>Username</th><td><input></td>`), else the element just before it
/// under the same parent (`<span>Username</span><input>`). Short texts only.
fn beside_of(elements: &[Element], i: usize) -> Option<String> {
    let short = |j: usize| {
        let text = collapse(&elements.get(j)?.text);
        (!text.is_empty() && text.chars().count() <= 80).then_some(text)
    };
    if let Some(cell) = ancestor_in_scope(elements, i, |p| p.tag == "td")
        && let Some(row) = elements.get(cell).and_then(|c| c.parent)
    {
        let before = (0..cell).rev().find(|&j| {
            elements[j].parent == Some(row) && matches!(elements[j].tag.as_str(), "th" | "td")
        });
        return before.and_then(short);
    }
    let parent = elements.get(i)?.parent;
    let before = (0..i).rev().find(|&j| elements[j].parent == parent)?;
    let tag = elements[before].tag.as_str();
    if matches!(
        tag,
        "input" | "select" | "textarea" | "button" | "br" | "img"
    ) {
        return None;
    }
    short(before)
}

/// Element ids by tree scope.
type Ids<'a> = HashMap<(usize, &'a str), usize>;

fn region(elements: &[Element], i: usize) -> String {
    let found = ancestor(elements, i, |e| {
        matches!(
            e.tag.as_str(),
            "header" | "nav" | "main" | "footer" | "aside"
        ) || matches!(
            e.attr("role"),
            Some("banner" | "navigation" | "main" | "contentinfo" | "complementary")
        )
    });
    let Some(e) = found.and_then(|f| elements.get(f)) else {
        return String::new();
    };
    match e.attr("role") {
        Some("banner") => "header",
        Some("navigation") => "nav",
        Some("main") => "main",
        Some("contentinfo") => "footer",
        Some("complementary") => "aside",
        _ => e.tag.as_str(),
    }
    .to_string()
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The element's start tag (and its label, when it has one): enough for a ticket.
fn excerpt(e: &Element, label: Option<&str>, by_for: bool) -> String {
    // The label as the page ties it: `for` pointing at the field's id, else wrapping it, so
    // a developer reading the ticket sees a correctly tied label as tied.
    let tied_by_id = e.attr("id").filter(|id| by_for && !id.is_empty());
    let mut tag = format!("<{}", e.tag);
    for (k, v) in &e.attrs {
        if k == "value" || k == "style" {
            continue; // A value may be what the user typed.
        }
        tag.push_str(&format!(
            " {k}=\"{}\"",
            v.replace('&', "&amp;").replace('"', "&quot;")
        ));
    }
    tag.push('>');
    match (label, tied_by_id) {
        (Some(l), Some(id)) if !l.is_empty() => format!(
            "<label for=\"{}\">{}</label> {tag}",
            id.replace('&', "&amp;").replace('"', "&quot;"),
            l.replace('&', "&amp;").replace('<', "&lt;")
        ),
        (Some(l), None) if !l.is_empty() => format!(
            "<label>{} {tag}</label>",
            l.replace('&', "&amp;").replace('<', "&lt;")
        ),
        _ => tag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn el(id: i64, tag: &str, attrs: &[&str], children: Vec<Value>) -> Value {
        json!({"nodeType": 1, "backendNodeId": id, "localName": tag, "nodeName": tag.to_uppercase(),
               "attributes": attrs, "children": children})
    }
    fn text(t: &str) -> Value {
        json!({"nodeType": 3, "nodeValue": t})
    }
    fn ax(id: i64, role: &str, name: &str, sources: Value) -> Value {
        json!({"backendDOMNodeId": id, "role": {"value": role}, "name": {"value": name, "sources": sources}})
    }

    fn login_page() -> (Value, Value) {
        let doc = json!({"nodeType": 9, "backendNodeId": 1, "documentURL": "http://h/login", "baseURL": "http://h/login",
        "children": [el(2, "html", &["lang", "en"], vec![el(3, "body", &[], vec![
            el(4, "header", &[], vec![el(5, "a", &["href", "/login"], vec![text("Log in")])]),
            el(6, "form", &["action", "/session", "method", "POST"], vec![
                el(7, "label", &["for", "owner"], vec![text("Owner  Name")]),
                el(8, "input", &["id", "owner", "name", "owner", "required", ""], vec![]),
                el(9, "input", &["type", "password", "placeholder", "Password", "name", "pw"], vec![]),
                el(10, "input", &["type", "hidden", "name", "csrf"], vec![]),
                el(11, "button", &[], vec![text("Log in")]),
            ]),
            el(12, "label", &["for", "nowhere"], vec![text("Ghost")]),
            el(13, "footer", &[], vec![el(14, "a", &["href", "help#faq", "id", "f"], vec![text("Help")])]),
        ])])]});
        let nodes = json!([
            ax(5, "link", "Log in", json!([{"type": "contents", "value": {"value": "Log in"}}])),
            ax(8, "textbox", "Owner Name", json!([
                {"type": "attribute", "attribute": "aria-labelledby"},
                {"type": "relatedElement", "nativeSource": "labelfor", "value": {"value": "Owner Name"}}])),
            ax(9, "textbox", "Password", json!([
                {"type": "relatedElement", "nativeSource": "labelfor"},
                {"type": "placeholder", "attribute": "placeholder", "value": {"value": "Password"}}])),
            ax(11, "button", "Log in", json!([{"type": "contents", "value": {"value": "Log in"}}])),
            {"backendDOMNodeId": 14, "role": {"value": "link"}, "name": {"value": "Help"}, "ignored": true},
        ]);
        (doc, nodes)
    }

    /// `<hb-sign-in>` with an open root holding a labelled field and a label naming
    /// nothing in its scope; a light-DOM label aimed into the root; a user-agent root.
    fn shadow_page() -> (Value, Value) {
        let mut host = el(3, "hb-sign-in", &[], vec![]);
        host["shadowRoots"] = json!([{"nodeType": 11, "shadowRootType": "open", "children": [
            el(4, "form", &[], vec![
                el(5, "label", &["for", "account"], vec![text("Account ID")]),
                el(6, "input", &["id", "account"], vec![]),
                el(7, "label", &["for", "acct"], vec![text("PIN")]),
                el(8, "input", &["id", "pin", "type", "password"], vec![]),
                el(9, "button", &["disabled", ""], vec![text("Sign in")]),
            ]),
        ]}]);
        let mut plain = el(11, "input", &["id", "pin"], vec![]);
        plain["shadowRoots"] = json!([{"nodeType": 11, "shadowRootType": "user-agent", "children": [
            el(12, "div", &["id", "inner-editor"], vec![]),
        ]}]);
        let doc = json!({"nodeType": 9, "backendNodeId": 1, "documentURL": "http://h/", "children": [
        el(2, "body", &[], vec![
            host,
            el(10, "label", &["for", "account"], vec![text("Outside")]),
            plain,
        ])]});
        let nodes = json!([
            ax(
                6,
                "textbox",
                "Account ID",
                json!([{"type": "relatedElement", "nativeSource": "labelfor", "value": {"value": "Account ID"}}])
            ),
            ax(8, "textbox", "", json!([])),
            ax(
                9,
                "button",
                "Sign in",
                json!([{"type": "contents", "value": {"value": "Sign in"}}])
            ),
            ax(11, "textbox", "", json!([])),
        ]);
        (doc, nodes)
    }

    #[test]
    fn shadow_roots_are_seen_with_their_host_and_labels_stay_in_their_scope() {
        let (doc, nodes) = shadow_page();
        let s = build(&doc, &nodes, PageInfo::default(), Some(200));
        let f = &s.page.fields;
        assert_eq!(f.len(), 3, "the user-agent root is not the page's: {f:?}");
        assert_eq!(f[0].name, "Account ID");
        assert_eq!(f[0].label_text, "Account ID");
        assert_eq!(f[0].host, "hb-sign-in");
        assert_eq!(f[0].form, Some(0));
        assert_eq!(
            f[1].label_text, "",
            "the PIN label names nothing in the root"
        );
        assert_eq!(f[2].host, "", "{:?}", f[2]);
        assert_eq!(
            f[2].label_text, "",
            "an id in the root is not the document's"
        );
        assert_eq!(s.field_nodes, vec![6, 8, 11]);
        let b = &s.page.buttons[0];
        assert_eq!((b.host.as_str(), b.disabled), ("hb-sign-in", true));
        let orphans: Vec<(&str, &str)> = s
            .page
            .orphan_labels
            .iter()
            .map(|o| (o.text.as_str(), o.host.as_str()))
            .collect();
        assert_eq!(
            orphans,
            vec![("PIN", "hb-sign-in"), ("Outside", "")],
            "a label aimed into a shadow root names nothing, as in the browser"
        );
        assert_eq!(
            s.page.anchors,
            vec!["pin".to_string()],
            "ids in roots are no anchors"
        );
    }

    #[test]
    fn a_cross_site_frame_joins_the_page_with_its_address_and_session() {
        let (doc, nodes) = login_page();
        let top_info = PageInfo {
            url: "http://h/login".into(),
            text: "Log in".into(),
            ..Default::default()
        };
        let mut page = build(&doc, &nodes, top_info, Some(200));
        let (doc, nodes) = shadow_page();
        let frame_info = PageInfo {
            url: "http://localhost:9/spa-frame/direct-debit".into(),
            text: "Direct Debit".into(),
            ..Default::default()
        };
        let frame = build(&doc, &nodes, frame_info, None);
        let (fields, forms) = (page.page.fields.len(), page.page.forms.len());
        page.add_frame(frame, "S1", "http://h/login");
        let f = &page.page.fields[fields];
        assert_eq!(f.name, "Account ID");
        assert_eq!(f.frame, "http://localhost:9/spa-frame/direct-debit");
        assert_eq!(f.form, Some(forms), "form indexes follow the page's");
        assert_eq!(page.field_sessions[fields].as_deref(), Some("S1"));
        assert_eq!(page.field_sessions[0], None);
        assert_eq!(page.field_nodes.len(), page.field_sessions.len());
        assert_eq!(page.button_nodes.len(), page.button_sessions.len());
        assert!(page.page.text.ends_with("Direct Debit"));
        assert_eq!(
            page.page.frames,
            vec![FrameInfo {
                url: "http://localhost:9/spa-frame/direct-debit".into(),
                cross_origin: true,
                out_of_process: true,
            }]
        );
    }

    #[test]
    fn a_frame_of_the_pages_process_is_read_in_its_own_scope_and_address() {
        let mut frame = el(20, "iframe", &["src", "/moving-form"], vec![]);
        frame["frameId"] = json!("F2");
        frame["contentDocument"] = json!({"nodeType": 9, "backendNodeId": 21,
        "documentURL": "http://h/moving-form", "children": [el(22, "body", &[], vec![
            el(23, "form", &[], vec![
                el(24, "label", &["for", "owner"], vec![text("Postcode")]),
                el(25, "input", &["id", "pc"], vec![]),
                el(26, "a", &["href", "help"], vec![text("Help")]),
            ]),
        ])]});
        let (mut doc, nodes) = login_page();
        doc["children"][0]["children"][0]["children"]
            .as_array_mut()
            .unwrap()
            .push(frame);
        assert_eq!(inner_frames(&doc), vec!["F2".to_string()]);
        let info = PageInfo {
            url: "http://h/login".into(),
            ..Default::default()
        };
        let s = build(&doc, &nodes, info, Some(200));
        let f = s.page.fields.last().unwrap();
        assert_eq!(f.frame, "http://h/moving-form");
        assert_eq!(f.label_text, "", "the page's #owner is not the frame's");
        assert_eq!(f.form, Some(1));
        assert_eq!(s.page.forms[1].action, "http://h/moving-form");
        assert_eq!(s.field_nodes.last(), Some(&25));
        assert_eq!(
            s.field_sessions.last(),
            Some(&None),
            "acted on through the tab"
        );
        let l = s.page.links.last().unwrap();
        assert_eq!(
            (l.href.as_str(), l.frame.as_str()),
            ("http://h/help", "http://h/moving-form")
        );
        assert_eq!(
            s.page.frames,
            vec![FrameInfo {
                url: "http://h/moving-form".into(),
                cross_origin: false,
                out_of_process: false,
            }]
        );
        assert!(s.page.orphan_labels.iter().any(|o| o.for_id == "owner"));
        assert!(!s.page.anchors.contains(&"pc".to_string()));
    }

    #[test]
    fn fields_carry_chromiums_names_and_where_they_came_from() {
        let (doc, nodes) = login_page();
        let info = PageInfo {
            url: "http://h/login".into(),
            title: "Log in".into(),
            ..Default::default()
        };
        let s = build(&doc, &nodes, info, Some(200));
        let f = &s.page.fields;
        assert_eq!(f.len(), 2, "hidden inputs are not fields: {f:?}");
        assert_eq!(
            (f[0].name.as_str(), f[0].name_source),
            ("Owner Name", NameSource::Label)
        );
        assert!(f[0].required);
        assert_eq!(f[0].label_text, "Owner Name");
        assert_eq!(f[0].form, Some(0));
        assert_eq!(
            (f[1].name.as_str(), f[1].name_source),
            ("Password", NameSource::Placeholder)
        );
        assert_eq!(f[1].input_type, "password");
        assert!(
            f[1].html.starts_with("<input type=\"password\""),
            "{}",
            f[1].html
        );
        assert_eq!(s.field_nodes, vec![8, 9]);
        assert_eq!(s.page.status, Some(200));
    }

    #[test]
    fn links_buttons_forms_and_orphans() {
        let (doc, nodes) = login_page();
        let s = build(&doc, &nodes, PageInfo::default(), None);
        let p = &s.page;
        assert_eq!(p.buttons.len(), 1);
        assert_eq!(
            (
                p.buttons[0].name.as_str(),
                p.buttons[0].button_type.as_str()
            ),
            ("Log in", "submit")
        );
        assert_eq!(p.buttons[0].form, Some(0));
        assert_eq!(p.links[0].href, "http://h/login");
        assert_eq!(p.links[0].region, "header");
        assert_eq!(p.links[1].href, "http://h/help#faq");
        assert_eq!(p.links[1].region, "footer");
        assert!(!p.links[1].visible, "ignored by the accessibility tree");
        assert_eq!(p.forms[0].action, "http://h/session");
        assert_eq!(p.forms[0].method, "post");
        assert_eq!(p.orphan_labels[0].for_id, "nowhere");
        assert!(p.anchors.contains(&"f".to_string()));
    }

    #[test]
    fn a_field_missing_from_the_accessibility_tree_is_not_visible() {
        let doc = el(1, "input", &["name", "x"], vec![]);
        let s = build(&doc, &json!([]), PageInfo::default(), None);
        assert!(!s.page.fields[0].visible);
        assert_eq!(s.page.fields[0].name_source, NameSource::None);
    }

    fn limits() -> Limits {
        Limits {
            dom_nodes: 100,
            text_chars: 1_000,
            links_per_page: 1,
            controls_per_page: 2,
            phones_per_page: 5,
            ..Limits::default()
        }
    }

    #[test]
    fn links_and_controls_past_their_limits_are_cut_and_said() {
        let (doc, nodes) = login_page();
        let mut s = build(&doc, &nodes, PageInfo::default(), None);
        assert_eq!(
            (
                s.page.links.len(),
                s.page.fields.len(),
                s.page.buttons.len()
            ),
            (2, 2, 1)
        );
        s.cap(&limits());
        assert_eq!(s.page.links.len(), 1);
        assert_eq!(s.link_nodes, vec![5]);
        assert_eq!(s.link_sessions.len(), 1);
        assert_eq!(s.page.fields.len(), 2, "fields are kept first");
        assert!(s.page.buttons.is_empty() && s.button_nodes.is_empty());
        let limits: Vec<(RecordLimit, usize, usize)> =
            s.cuts.iter().map(|c| (c.limit, c.kept, c.seen)).collect();
        assert_eq!(
            limits,
            vec![
                (RecordLimit::LinksPerPage, 1, 2),
                (RecordLimit::ControlsPerPage, 2, 3)
            ]
        );
        let rec = s.recording().unwrap();
        assert!(
            rec.reason.contains("2 links (nocall read the first 1)"),
            "{}",
            rec.reason
        );
        // A frame's cut joins the page's, once a limit.
        let (doc, nodes) = shadow_page();
        let mut frame = build(&doc, &nodes, PageInfo::default(), None);
        frame.cuts = vec![Cut {
            limit: RecordLimit::LinksPerPage,
            kept: 1,
            seen: 9,
        }];
        s.add_frame(frame, "S1", "http://h/");
        assert_eq!(s.cuts.len(), 2);
        assert_eq!(s.cuts[0].seen, 9);
    }

    #[test]
    fn a_page_within_the_limits_is_read_whole_and_a_big_one_walked() {
        let small = Gauge {
            elements: 90,
            text: 900,
            raw_text: 5_000,
            links: 1,
            controls: 2,
            deep: false,
        };
        assert!(!small.too_big(&limits()));
        assert!(
            Gauge {
                elements: 101,
                ..small
            }
            .too_big(&limits())
        );
        assert!(Gauge { links: 2, ..small }.too_big(&limits()));
        assert!(
            Gauge {
                controls: 3,
                ..small
            }
            .too_big(&limits())
        );
        assert!(
            Gauge {
                deep: true,
                ..small
            }
            .too_big(&limits())
        );
        assert!(
            Gauge {
                raw_text: 8_001,
                ..small
            }
            .too_big(&limits())
        );
        // Past 5 000 elements a page is walked, whatever the limits allow.
        let roomy = Limits {
            dom_nodes: 1_000_000,
            ..limits()
        };
        assert!(
            Gauge {
                elements: 5_001,
                ..small
            }
            .too_big(&roomy)
        );
        assert_eq!(text_cut(&small, &limits()), None);
        let long = Gauge {
            text: 1_500,
            ..small
        };
        assert_eq!(
            text_cut(&long, &limits()),
            Some(Cut {
                limit: RecordLimit::TextChars,
                kept: 1_000,
                seen: 1_500
            })
        );
    }

    #[test]
    fn each_element_keeps_a_bounded_share_of_the_text_under_it() {
        let big = "é".repeat(10_000);
        let doc = el(
            1,
            "body",
            &[],
            vec![el(
                2,
                "div",
                &[],
                vec![
                    el(
                        3,
                        "label",
                        &[],
                        vec![text("Card number"), el(4, "input", &[], vec![])],
                    ),
                    el(5, "p", &[], vec![text(&big)]),
                ],
            )],
        );
        let mut elements = Vec::new();
        let top = At {
            parent: None,
            scope: 0,
            host: "",
            frame: 0,
        };
        flatten(&doc, top, &mut 0, &mut Frames::default(), &mut elements);
        assert!(elements.iter().all(|e| e.text.len() <= ELEMENT_TEXT));
        assert!(elements[0].text.starts_with("Card numberé"));
        assert_eq!(elements[2].text, "Card number");
        let s = build(&doc, &json!([]), PageInfo::default(), None);
        assert_eq!(s.page.fields[0].label_text, "Card number");
    }

    #[test]
    fn a_walked_tree_gets_its_backend_ids_and_tells_its_cuts() {
        let mut frame = el(-3, "iframe", &[], vec![]);
        frame["contentDocument"] =
            json!({"nodeType": 9, "children": [el(-2, "input", &[], vec![])]});
        let mut host = el(7, "x-host", &[], vec![]);
        host["shadowRoots"] =
            json!([{"nodeType": 11, "children": [el(-1, "a", &["href", "/x"], vec![])]}]);
        let mut root = json!({"nodeType": 9, "children": [el(1, "body", &[], vec![host, frame, el(-9, "button", &[], vec![])])]});
        place_ids(&mut root, &[11, 12, 13]);
        let s = build(&root, &json!([]), PageInfo::default(), None);
        assert_eq!(s.link_nodes, vec![11], "through a shadow root");
        assert_eq!(s.field_nodes, vec![12], "through a frame's document");
        assert_eq!(
            s.button_nodes,
            vec![0],
            "a pick the browser did not name acts on nothing"
        );
        let walked = Walked {
            nodes: 100,
            text: 1_000,
            links: 1,
            controls: 2,
            cut_nodes: true,
            cut_text: true,
            cut_depth: true,
            ..Walked::default()
        };
        let gauge = Gauge {
            elements: 5_000,
            text: 800,
            raw_text: 90_000,
            links: 40,
            controls: 2,
            deep: true,
        };
        let cuts: Vec<(RecordLimit, usize, usize)> = walked
            .cuts(&gauge, &limits())
            .iter()
            .map(|c| (c.limit, c.kept, c.seen))
            .collect();
        assert_eq!(
            cuts,
            vec![
                (RecordLimit::DomNodes, 100, 5_000),
                (RecordLimit::TextChars, 1_000, 90_000),
                (RecordLimit::Depth, MAX_DEPTH, MAX_DEPTH + 1),
                (RecordLimit::LinksPerPage, 1, 40),
            ],
            "no control was left out: the page has just the two kept"
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        for v in [
            json!(null),
            json!([1, 2]),
            json!({"children": [{"nodeType": 1, "attributes": ["odd"]}]}),
        ] {
            let _ = build(&v, &v, PageInfo::default(), None);
        }
    }
}
