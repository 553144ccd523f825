#!/usr/bin/env bash
# The README's CI recipe ("In CI"), command by command and in its order, on a fresh clone of
# this repository, against the example portal standing in for staging. It passes only if a
# team following the README gets: nocall installed with `cargo install --locked --git`, the
# first `--baseline` run refused with the commands that make the file, the baseline written
# and committed, then a gated run that passes with every report in the one folder uploaded.
#
#   bench/ci-recipe.sh                  # release build, as the recipe does
#   NOCALL_RECIPE_DEBUG=1 CARGO_TARGET_DIR=target bench/ci-recipe.sh   # quicker: a debug build
#
# The clone is of the committed HEAD: commit before running it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
portal_pid=""
cleanup() {
  if [ -n "$portal_pid" ]; then kill "$portal_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

step "a fresh clone (the team's repository holding scenarios/)"
git clone -q "$repo" "$work/clone"
cd "$work/clone"

step "install nocall: cargo install --locked --git …"
profile=()
if [ "${NOCALL_RECIPE_DEBUG:-}" = 1 ]; then profile=(--debug); fi
cargo install -q --locked --git "file://$work/clone" --root "$work/cargo" "${profile[@]}" nocall
export PATH="$work/cargo/bin:$PATH"
nocall --version

step "Chromium"
command -v chromium || command -v google-chrome || {
  echo "no Chromium: apt-get install -y chromium" >&2
  exit 1
}

step "staging: the example portal"
nocall portal --port 0 >"$work/portal.log" 2>&1 &
portal_pid=$!
for _ in $(seq 1 100); do
  grep -q "example portal at" "$work/portal.log" && break
  sleep 0.1
done
STAGING_URL="$(sed -n 's/^example portal at \([^ ]*\).*/\1/p' "$work/portal.log")"
[ -n "$STAGING_URL" ] || { cat "$work/portal.log" >&2; exit 1; }
export STAGING_URL
echo "STAGING_URL=$STAGING_URL"

step "secrets reach {env:…} through the job's environment"
export PORTAL_PIN=unused QA_MAIL_PASSWORD=unused

gated=(nocall run scenarios/ --base-url "$STAGING_URL" --out nocall-out
  --baseline nocall-baseline.json --fail-on blocker
  --report junit=nocall-out/junit.xml --report sarif=nocall-out/nocall.sarif
  --report html=nocall-out/report.html)

step "the first gated run, before the baseline exists: exit 2 and how to make it"
set +e
"${gated[@]}" >/dev/null 2>"$work/first.err"
code=$?
set -e
cat "$work/first.err"
[ "$code" = 2 ] || { echo "expected exit 2, got $code" >&2; exit 1; }
grep -q "nocall baseline write nocall-baseline.json --report nocall-out/report.json" "$work/first.err"

step "the baseline, once, on the main branch"
nocall run scenarios/ --base-url "$STAGING_URL" --out nocall-out --fail-on none >/dev/null
nocall baseline write nocall-baseline.json --report nocall-out/report.json
git add nocall-baseline.json
git -c user.name=ci -c user.email=ci@example.test commit -qm "nocall: baseline of known findings"

step "the gated run, as every CI run does it"
"${gated[@]}" >/dev/null

step "one folder to upload, with every report in it"
for f in report.json junit.xml nocall.sarif report.html; do
  [ -s "nocall-out/$f" ] || { echo "missing nocall-out/$f" >&2; exit 1; }
done
grep -q "<testsuites" nocall-out/junit.xml
ls nocall-out/traces | head -3
echo
echo "ci-recipe: the README's CI recipe ran through"
