#!/usr/bin/env bash
# Per-step time of nocall next to the browser's own navigation time for the same pages.
#
# Runs the bundled demo journeys (release build, real Chromium) ROUNDS times and prints, per
# step kind: nocall's step time (action + recording the page + screenshot), the browser's
# navigation time for the page that step loaded (Navigation Timing: load event end), and
# nocall's overhead = step time − navigation time.
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
        rows.setdefault(s["kind"], []).append((tm["action_ms"], tm["record_ms"], tm.get("page_ms", 0)))
print(f"{'step':<8} {'n':>4} {'action ms':>10} {'record ms':>10} {'step ms':>8} {'browser nav ms':>15} {'overhead ms':>12}")
tot = [0, 0]
for kind, v in sorted(rows.items()):
    a = st.median(x[0] for x in v); r = st.median(x[1] for x in v); p = st.median(x[2] for x in v)
    print(f"{kind:<8} {len(v):>4} {a:>10.1f} {r:>10.1f} {a+r:>8.1f} {p:>15.1f} {a+r-p:>12.1f}")
    for x in v:
        tot[0] += x[0] + x[1]; tot[1] += x[2]
print(f"all steps: {tot[0]} ms of nocall step time, {tot[1]} ms of it the browser's own page loads")
PY
