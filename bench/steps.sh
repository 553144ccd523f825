#!/usr/bin/env bash
# Per-step time of nocall next to the browser's own time for the same pages.
#
# Runs the bundled demo journeys (release build, real Chromium) ROUNDS times and prints, per
# step kind, medians of:
#   action   performing the step and waiting for the page to settle
#   record   snapshot (DOM, accessibility tree) and screenshot; the browser paints the
#            screenshot while nocall reads the trees
#   nav      the browser's own navigation time for the page the step loaded (Navigation
#            Timing: load event end; 0 for steps that did not navigate)
#   own      nocall's own time: the step's time less every wait for the browser, the portal
#            and the mail server (trace field timings.own_us)
# and, over all steps, two overheads:
#   own / waiting   nocall's own time over the time it spent waiting on the browser
#   step - nav      what steps cost beyond the browser's navigation, recording included
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-5}"
JOBS="${JOBS:-1}"
cargo build --release -q
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for i in $(seq 1 "$ROUNDS"); do
  NOCALL_PEAK_RSS=1 /usr/bin/time -f "%e s wall" \
    ./target/release/nocall demo --fail-on none --format json --jobs "$JOBS" --out "$out/run$i" >/dev/null
done
python3 - "$out" <<'PY'
import json, glob, sys, statistics as st
rows = {}
for f in glob.glob(sys.argv[1] + "/run*/traces/*.json"):
    t = json.load(open(f))
    for s in t["steps"]:
        tm = s["timings"]
        rows.setdefault(s["kind"], []).append(
            (tm["action_ms"], tm["record_ms"], tm.get("page_ms", 0), tm.get("own_us", 0) / 1000))
print(f"{'step':<8} {'n':>4} {'action':>8} {'record':>8} {'step':>8} {'nav':>8} {'own':>8} {'step-nav':>9}   (ms, medians)")
# Totals over the steps that act on the page: `expect`, `wait` and `email` mostly wait on
# purpose (the expectation's grace, the mail server) and would flatter both ratios.
ACTING = {"open", "click", "fill", "choose", "press"}
own = waiting = step = nav = 0.0
for kind, v in sorted(rows.items()):
    a = st.median(x[0] for x in v); r = st.median(x[1] for x in v)
    p = st.median(x[2] for x in v); o = st.median(x[3] for x in v)
    print(f"{kind:<8} {len(v):>4} {a:>8.1f} {r:>8.1f} {a+r:>8.1f} {p:>8.1f} {o:>8.2f} {a+r-p:>9.1f}")
    if kind not in ACTING:
        continue
    for x in v:
        total = x[0] + x[1]
        own += x[3]; waiting += max(total - x[3], 0); step += total; nav += x[2]
print(f"open/click/fill/choose/press steps: {step:.0f} ms, nocall's own {own:.0f} ms, "
      f"waiting on the browser and portal {waiting:.0f} ms")
print(f"nocall's own overhead over the browser's time: {100 * own / waiting:.1f} %")
print(f"beyond the browser's navigation time (recording, input, settling): {step - nav:.0f} ms "
      f"over {nav:.0f} ms, {100 * (step - nav) / nav:.0f} %")
PY
