#!/usr/bin/env bash
# The single-page site's clean journey (scenarios-spa/clean-account.yaml), RUNS times in a
# row with `--fail-on any`: how many completed with 0 findings (and exit 0), and the median
# wall time of one run (the nocall process: browser start, journey, audit, reports).
# A run that fails says why, from its report.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-20}"
cargo build --release -q
out="$(mktemp -d)"
./target/release/nocall portal --port 0 > "$out/portal.txt" &
portal=$!
trap 'kill $portal 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 50); do grep -q http "$out/portal.txt" 2>/dev/null && break; sleep 0.1; done
base="$(grep -o 'http://[0-9.:]*' "$out/portal.txt" | head -1)"
echo "portal at $base; scenarios-spa/clean-account.yaml, $RUNS runs, --fail-on any"
ok=0; ms=()
for i in $(seq 1 "$RUNS"); do
  t0=$(date +%s%N)
  set +e
  ./target/release/nocall run scenarios-spa/clean-account.yaml --base-url "$base" \
    --fail-on any --format json --out "$out/run$i" > "$out/run$i.json" 2> /dev/null
  code=$?
  set -e
  ms+=($(( ($(date +%s%N) - t0) / 1000000 )))
  verdict="$(python3 - "$out/run$i.json" "$code" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"no report ({e})"); sys.exit()
s = r["scenarios"][0]
kinds = sorted({f["kind"] for f in r["findings"]})
if sys.argv[2] == "0" and s["status"] == "completed" and not r["findings"]:
    print("ok")
else:
    print(f"exit {sys.argv[2]}, {s['status']}: {s.get('reason') or ''} findings: {kinds}")
PY
)"
  if [ "$verdict" = ok ]; then ok=$((ok + 1)); else echo "run $i: $verdict"; fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "$ok/$RUNS completed with 0 findings"
echo "median wall time: $(median "${ms[@]}") ms (runs: ${ms[*]})"
