#!/usr/bin/env bash
# Render-mode figures: `nocall links` over the example portal's single-page site, rendered in
# Chromium (`--render always`) and as plain HTTP (`--render never`), with the pages crawled,
# the pages rendered, wall time and pages per second of each.
#
#   bench/links/spa.sh                 # NOCALL=target/release/nocall when built, else debug
set -euo pipefail
cd "$(dirname "$0")/../.."
NOCALL="${NOCALL:-}"
if [ -z "$NOCALL" ]; then
  if [ -x target/release/nocall ]; then NOCALL=target/release/nocall; else
    cargo build -q --bin nocall
    NOCALL=target/debug/nocall
  fi
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$NOCALL" portal --port "$port" >/dev/null 2>&1 &
portal_pid=$!
work="$(mktemp -d)"
trap 'kill "$portal_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do
  python3 -c 'import urllib.request,sys; urllib.request.urlopen(sys.argv[1])' "http://127.0.0.1:$port/spa/" 2>/dev/null && break
  sleep 0.1
done
echo "example single-page site at http://127.0.0.1:$port/spa/ ($NOCALL)"
for mode in always auto never; do
  start=$(date +%s.%N)
  "$NOCALL" links "http://127.0.0.1:$port/spa/" --offline --render "$mode" --fail-on none \
    --format json --out "$work/$mode" >/dev/null 2>"$work/$mode.err"
  end=$(date +%s.%N)
  line="$(grep 'pages crawled' "$work/$mode.err" || true)"
  pages="$(echo "$line" | sed -E 's/.*: ([0-9]+) pages.*/\1/')"
  python3 - "$mode" "$start" "$end" "$pages" "$line" <<'PY'
import sys
mode, start, end, pages, line = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
wall = end - start
n = int(pages) if pages.isdigit() else 0
print(f"  --render {mode}: {wall:.2f} s wall, {n / wall if wall else 0:.1f} pages/s — {line.removeprefix('nocall: ')}")
PY
done
