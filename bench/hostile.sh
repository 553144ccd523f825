#!/usr/bin/env bash
# Hostile input, one case at a time: nocall's own peak memory (NOCALL_PEAK_RSS, Chromium's
# processes not counted), wall time, exit code and the last line it printed. The cases are
# issue 23's: huge documents, link and phone floods, a 50 MB answer, a reload loop, terminal
# escapes, a download, an endless settings file, a 20 MB one-line scenario, 60 mails of
# 23 MB to the SMTP listener (`FLOOD_MAILS`, `FLOOD_MB`), `nocall links` on 50 000 links and on a
# site whose every page links to 20 000 others.
# `CASES=mail-flood,links-crawl` runs only the cases whose names start so.
#
#   bench/hostile.sh                 # NOCALL defaults to target/release/nocall
set -euo pipefail
cd "$(dirname "$0")/.."
NOCALL="${NOCALL:-target/release/nocall}"
[ -x "$NOCALL" ] || cargo build --release -q
work="$(mktemp -d)"
python3 bench/hostile/site.py > "$work/site.txt" 2>/dev/null &
site=$!
trap 'kill $site 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q http "$work/site.txt" 2>/dev/null && break; sleep 0.1; done
base="$(head -1 "$work/site.txt")"

journey() { # name path [step_timeout] → a scenario that opens the page and looks for what is not there
  cat > "$work/$1.yaml" <<YAML
name: $1
step_timeout: ${3:-10s}
start: $base/
steps:
  - open: $2
  - expect: Nothing here matches this
YAML
}

printf '%-22s %10s %9s %5s  %s\n' case "peak RSS" wall exit "last line"
measure() { # name, then the nocall arguments
  local name="$1"; shift
  if [ -n "${CASES:-}" ]; then
    local keep=0 c
    for c in ${CASES//,/ }; do [[ "$name" == "$c"* ]] && keep=1; done
    [ "$keep" = 1 ] || return 0
  fi
  local t0; t0=$(date +%s%N)
  set +e
  NOCALL_PEAK_RSS=1 "$NOCALL" "$@" > "$work/$name.out" 2> "$work/$name.err"
  local code=$?
  set -e
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  local kb; kb=$(grep -o 'peak RSS [0-9]*' "$work/$name.err" | grep -o '[0-9]*' | tail -1)
  local rss=${kb:+$(( kb / 1024 ))}
  local last; last=$(grep -v 'peak RSS' "$work/$name.err" "$work/$name.out" -h | grep -v '^\s*$' | tail -1 | cut -c1-70)
  printf '%-22s %7s MiB %7s s %5s  %s\n' "$name" "${rss:-?}" "$(awk "BEGIN{printf \"%.1f\", $ms/1000}")" "$code" "$last"
}

# The 50 MB answers: Chromium needs ~20 s to load 50 MB of paragraphs (never finishing
# one 50 MB paragraph), so the paragraphs get a minute a step to measure the record itself.
for c in "dom-200k:/dom?n=200000" "dom-400k:/dom?n=400000" "links-50k:/links?n=50000" \
         "tel-10k:/tel?n=10000" "response-50MB:/big?n=50" "response-50MB-paras:/bigp?n=50:60s" \
         "meta-refresh:/refresh" "escapes:/escapes" "download:/download"; do
  name="${c%%:*}"; rest="${c#*:}"; path="${rest%%:*}"; timeout=""
  [ "$path" != "$rest" ] && timeout="${rest#*:}"
  journey "$name" "$path" "$timeout"
  if [ "$name" = download ]; then
    printf '  - click: Get the form\n' >> "$work/$name.yaml"
  fi
  measure "$name" run "$work/$name.yaml" --fail-on none --offline --out "$work/out-$name"
done
journey plain /
measure "config-dev-zero" run "$work/plain.yaml" --config /dev/zero --out "$work/out-zero"
python3 -c "print('name: x\nsteps: [' + 'y' * 20_000_000 + ']')" > "$work/huge.yaml"
measure "scenario-20MB-line" check "$work/huge.yaml"
# 60 mails of 23 MB to nocall's SMTP listener while a journey waits for another message.
smtp_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/mail-flood.yaml" <<YAML
name: mail-flood
start: $base/
mail: {smtp: "127.0.0.1:$smtp_port"}
steps:
  - open: /
  - email: {to: pat@example.test, within: 600s}
YAML
[ -z "${CASES:-}" ] || [[ ",$CASES," == *",mail"* ]] && python3 bench/hostile/flood.py "$smtp_port" "${FLOOD_MAILS:-60}" "${FLOOD_MB:-23}" 2> "$work/flood.err" &
measure "mail-flood-60x23MB" run "$work/mail-flood.yaml" --fail-on none --offline --out "$work/out-flood"
# `nocall links` on one page of 50 000 links.
measure "links-crawl-50k" links "$base/links?n=50000" --offline --fail-on none --out "$work/out-crawl"
# `nocall links` on a site whose every page links to 20 000 others (100 pages, depth 1).
python3 bench/hostile/mesh.py > "$work/mesh.txt" 2>/dev/null &
mesh=$!
trap 'kill $site $mesh 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q http "$work/mesh.txt" 2>/dev/null && break; sleep 0.1; done
measure "links-crawl-mesh" links "$(head -1 "$work/mesh.txt")/m" --depth 1 --max-pages 100 --offline --fail-on none --out "$work/out-mesh"
if [ -d "$HOME/Downloads" ]; then echo "note: $HOME/Downloads exists (made before this run?)"; fi
