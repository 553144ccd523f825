#!/usr/bin/env bash
# nocall against Playwright: the bundled journeys, same Chromium, same parallelism, one run.
# Prints each tool's median wall time over ROUNDS rounds, the ratio, and nocall's peak RSS
# (its own process, read from /proc/self/status; Chromium's processes are not counted).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-5}"
JOBS="${JOBS:-2}"
cargo build --release -q
(cd bench/playwright && [ -d node_modules ] || npm install --no-audit --no-fund -s)
./target/release/nocall portal --port 0 > /tmp/nocall-race-portal.txt &
portal=$!
trap 'kill $portal 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q http /tmp/nocall-race-portal.txt 2>/dev/null && break; sleep 0.1; done
base="$(grep -o 'http://[0-9.:]*' /tmp/nocall-race-portal.txt | head -1)"
echo "portal at $base, $JOBS journeys at once, $ROUNDS rounds"
out="$(mktemp -d)"
# The journeys both tools can run: Playwright has no mail listener, and `nocall portal`
# sends no mail, so journeys with an `email` step are left out of the race.
mkdir -p "$out/scenarios"
for f in scenarios/*.yaml; do
  grep -q -- '- email:' "$f" || cp "$f" "$out/scenarios/"
done
cp scenarios/*.csv "$out/scenarios/"
echo "$(ls "$out"/scenarios/*.yaml | grep -vc /nocall.yaml) journeys without e-mail steps"
nocall_ms=(); pw_ms=()
for i in $(seq 1 "$ROUNDS"); do
  t0=$(date +%s%N)
  NOCALL_PEAK_RSS=1 ./target/release/nocall run "$out/scenarios" --base-url "$base" \
    --jobs "$JOBS" --fail-on none --format json --out "$out/n$i" 2>&1 > /dev/null \
    | grep -o 'peak RSS [0-9]*' | grep -o '[0-9]*' > "$out/rss$i"
  nocall_ms+=($(( ($(date +%s%N) - t0) / 1000000 )))
  t0=$(date +%s%N)
  node bench/playwright/race.mjs "$base" "$out/scenarios" "$JOBS" > /dev/null 2>&1
  pw_ms+=($(( ($(date +%s%N) - t0) / 1000000 )))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
n=$(median "${nocall_ms[@]}"); p=$(median "${pw_ms[@]}")
rss=$(cat "$out"/rss* | sort -n | tail -1)
echo "nocall:     ${n} ms median (runs: ${nocall_ms[*]})"
echo "playwright: ${p} ms median (runs: ${pw_ms[*]})"
awk -v n="$n" -v p="$p" 'BEGIN {printf "ratio nocall/playwright: %.2f\n", n / p}'
echo "nocall peak RSS: $((rss / 1024)) MiB"
rm -rf "$out"
