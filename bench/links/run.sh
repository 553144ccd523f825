#!/usr/bin/env bash
# Link-check benchmark: a generated site of PAGES pages × LINKS links, served by nginx so the
# server is not the bottleneck, crawled and probed by nocall (which must discover the pages),
# and checked by lychee on the same page URLs when lychee is on PATH (it does not crawl).
#
# Prints pages, links, wall time, links per second and peak RSS for each run, at two
# settings: an open one (PER_HOST requests per host, no interval) and nocall's polite
# defaults (6 per host, 32 in all). POLITE_LYCHEE=1 adds lychee's polite defaults
# (10 per host, 50 ms apart) for both tools; slow by design.
#
#   bench/links/run.sh            # PAGES=2000 LINKS=10 PER_HOST=64
#   PROFILE=dev bench/links/run.sh
#   BENCH=/tmp/crawl_bench-main bench/links/run.sh   # a binary built from another commit
set -euo pipefail
cd "$(dirname "$0")/../.."
PAGES="${PAGES:-2000}"
LINKS="${LINKS:-10}"
PER_HOST="${PER_HOST:-64}"
PROFILE="${PROFILE:-release}"

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "installing nginx-light (Debian) ..." >&2
  apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

# BENCH=path/to/crawl_bench runs a binary built elsewhere (another commit, for before/after).
BENCH="${BENCH:-}"
target="${CARGO_TARGET_DIR:-target}"
if [ -n "$BENCH" ]; then
  :
elif [ "$PROFILE" = release ]; then
  cargo build --release -q --example crawl_bench
  BENCH="$target/release/examples/crawl_bench"
else
  cargo build -q --example crawl_bench
  BENCH="$target/debug/examples/crawl_bench"
fi

work="$(mktemp -d)"
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 bench/links/gen_site.py "$work/site" "$PAGES" "$LINKS"
# nginx workers run as an unprivileged user when started as root: let them read the site.
chmod -R a+rX "$work"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 bench/links/nginx_conf.py "$work" "$port" > "$work/nginx.conf"
"$NGINX" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/nginx.stderr" &
nginx_pid=$!
for _ in $(seq 50); do
  python3 -c 'import urllib.request,sys; urllib.request.urlopen(sys.argv[1])' "http://127.0.0.1:$port/index.html" 2>/dev/null && break
  sleep 0.1
done
start="http://127.0.0.1:$port/index.html"
echo "site: $PAGES pages × $LINKS links on $start (nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'), profile $PROFILE)"

run_nocall() {
  local label="$1"; shift
  /usr/bin/time -f "  $label: %e s wall, %M KiB peak RSS" "$BENCH" "$start" --verdicts "$work/nocall-$label.tsv" "$@"
}

run_lychee() {
  local label="$1"; shift
  find "$work/site" -name '*.html' | sed "s|^$work/site|http://127.0.0.1:$port|" | sort > "$work/pages.txt"
  /usr/bin/time -f "  lychee $label: %e s wall, %M KiB peak RSS" \
    lychee --no-progress --format json --output "$work/lychee-$label.json" --cache-exclude-status 0.. \
      --include-fragments "$@" - < "$work/pages.txt" >/dev/null || true
  python3 bench/links/compare.py "$work/nocall-$label.tsv" "$work/lychee-$label.json" || true
}

echo "open: $PER_HOST per host, no interval"
run_nocall open --per-host "$PER_HOST" --concurrency "$((PER_HOST * 2))"
echo "nocall's polite defaults: 6 per host, 32 in all"
run_nocall defaults
if command -v lychee >/dev/null; then
  run_lychee open --max-concurrency "$((PER_HOST * 2))" --host-concurrency "$PER_HOST"
else
  echo "lychee: not on PATH, not compared (cargo install lychee takes too long on this machine)"
fi
if [ "${POLITE_LYCHEE:-0}" = 1 ]; then
  echo "lychee's polite defaults: 10 per host, 50 ms apart"
  run_nocall polite --per-host 10 --interval-ms 50
  if command -v lychee >/dev/null; then
    run_lychee polite --host-concurrency 10 --host-request-interval 50ms
  fi
fi
