//! Navigations a page has scheduled but not started: a `<meta http-equiv=refresh>` with a
//! delay, or a pending `setTimeout` whose code moves the page (`location = …`,
//! `location.replace(…)`, a form's `submit()`), as a confirmation page does with "You are
//! now registered, welcome!" and the user's page a second later.
//!
//! The page's settle signal ([`super::inpage`]) counts only short function timers; a
//! timer given as a string of code (`setTimeout('window.location = "…"', 1000)`) or due
//! later than its horizon leaves the page looking settled while a person, waiting a
//! moment, sees the next page. Chromium no longer announces a scheduled navigation over
//! the DevTools protocol (`Page.frameScheduledNavigation` is deprecated and not sent; its
//! successor `Page.frameRequestedNavigation` fires only when the navigation starts), so
//! the page says it itself: [`INIT_JS`] notes such timers as they are set, and
//! [`NEXT_JS`] answers how soon the earliest one is due.
//!
//! Nothing here changes what the page does: the timers are set with the page's own
//! arguments, unwrapped; a timer is only noted (its due time), and forgotten when cleared
//! or once it is past due. It must not make a wait of its own: the caller waits on the
//! page's events until the due time, so a navigation that starts wakes it at once.

use std::time::Duration;

/// How long after its due time a noted navigation still counts: a timer fires a little
/// late on a busy page, and the navigation it starts is then seen by its events.
pub(super) const GRACE: Duration = Duration::from_millis(500);

/// Installed in every document before its own scripts, after the settle script.
pub(super) const INIT_JS: &str = r#"(() => {
  if (window.__nocallNav) return;
  const now = () => performance.now();
  const due = new Map();
  const moves = /\blocation\b|\.submit\s*\(/;
  const later = window.setTimeout, forget = window.clearTimeout;
  window.setTimeout = function (fn, ms, ...args) {
    const id = later.call(this, fn, ms, ...args);
    try {
      const code = typeof fn === 'function' ? Function.prototype.toString.call(fn) : String(fn);
      if (moves.test(code)) due.set(id, now() + Math.max(0, Number(ms) || 0));
    } catch (e) {}
    return id;
  };
  window.clearTimeout = function (id) { due.delete(id); return forget.call(this, id); };
  Object.defineProperty(window, '__nocallNav', {enumerable: false, value: Object.freeze({
    next: (grace) => {
      const t = now();
      let next = -1;
      const take = at => { if (at > t - grace) { const left = Math.max(0, at - t); if (next < 0 || left < next) next = left; } };
      for (const [id, at] of due) { if (at <= t - grace) due.delete(id); else take(at); }
      // A refresh the document asked for: its delay counts from the end of the load.
      const nav = performance.getEntriesByType('navigation')[0];
      const loaded = nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : t;
      for (const m of document.querySelectorAll('meta[http-equiv]')) {
        if ((m.httpEquiv || '').toLowerCase() !== 'refresh') continue;
        const s = /^\s*(\d+(?:\.\d*)?)/.exec(m.content || '');
        if (s) take(loaded + Number(s[1]) * 1000);
      }
      return next;
    },
  })});
})()"#;

/// Answers the milliseconds until the earliest scheduled navigation is due (0: due now),
/// or −1 when none is.
pub(super) fn next_js() -> String {
    format!(
        "(() => {{ const n = window.__nocallNav; return n ? n.next({}) : -1; }})()",
        GRACE.as_millis()
    )
}

/// The wait a scheduled navigation is worth, from [`next_js`]'s answer: until it is due,
/// and a little after.
pub(super) fn due_in(answer: Option<f64>) -> Option<Duration> {
    let ms = answer.filter(|ms| ms.is_finite() && *ms >= 0.0)?;
    Some(Duration::from_micros((ms * 1000.0).min(3.6e12) as u64) + GRACE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_becomes_a_wait_until_just_after_the_due_time() {
        assert_eq!(due_in(None), None);
        assert_eq!(due_in(Some(-1.0)), None);
        assert_eq!(due_in(Some(f64::NAN)), None);
        assert_eq!(due_in(Some(0.0)), Some(GRACE));
        assert_eq!(
            due_in(Some(750.0)),
            Some(Duration::from_millis(750) + GRACE)
        );
        assert!(next_js().contains("n.next(500)"));
    }
}
