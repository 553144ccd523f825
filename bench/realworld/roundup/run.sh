#!/usr/bin/env bash
# Real-world check of nocall on the Roundup issue tracker (PyPI's roundup, the "classic"
# template as `roundup-admin install` ships it, SQLite): register (the tracker mails a
# confirmation link), log in, "Lost your login?" (a confirmation mail, then a mail with the
# new password), and a `nocall links` crawl. The tracker's [mail] host/port point at the SMTP
# listener nocall runs during the journeys. Findings are judged in docs/realworld.md.
#
#   bench/realworld/roundup/run.sh          # install, serve, run the journeys and the crawl, stop
#   bench/realworld/roundup/run.sh serve    # only serve (Ctrl-C to stop); prints the URL
#
# Environment: PORT (default: a free one), SMTP_PORT (default 2532: nocall listens there),
# NOCALL (the nocall binary; default: cargo run), NOCALL_ROUNDUP_VENV (default:
# ~/.cache/nocall/roundup-venv), OUT (default: a temporary folder; reports and screenshots).
# roundup-server refuses to run as root; as root it runs as nobody (-u/-g), and the tracker
# folder is handed to that user.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
mode=${1:-check}
venv=${NOCALL_ROUNDUP_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/nocall/roundup-venv}
smtp_port=${SMTP_PORT:-2532}

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'roundup>=2.4,<3'
py="$venv/bin/python"
version=$("$py" -c 'import roundup; print(roundup.__version__)')

port=${PORT:-$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
data=$(mktemp -d "${TMPDIR:-/tmp}/nocall-roundup.XXXXXX")
out=${OUT:-$data/out}
tracker="$data/tracker"
base="http://127.0.0.1:$port"

"$venv/bin/roundup-admin" -i "$tracker" install classic sqlite >/dev/null
# The options `install` asks to set, and nothing else: where the tracker is served, the mail
# domain, and the SMTP server (nocall's listener).
sed -i \
  -e "s|^#web = NO DEFAULT|web = $base/tracker/|" \
  -e "s|^name = Roundup issue tracker|name = Roundup issue tracker|" \
  -e "s|^#domain = NO DEFAULT|domain = tracker.example.test|" \
  -e "s|^#host = NO DEFAULT|host = 127.0.0.1|" \
  -e "s|^port = 25\$|port = $smtp_port|" \
  "$tracker/config.ini"
"$venv/bin/roundup-admin" -i "$tracker" initialise "admin-$(date +%s%N)" >/dev/null
# The account the password-reset journey recovers (made as an administrator would).
"$venv/bin/roundup-admin" -i "$tracker" create user username=sam.roe \
  address=sam@example.test password=Forgotten-Pass-2025 roles=User >/dev/null
# The account the log-in journey signs in with.
"$venv/bin/roundup-admin" -i "$tracker" create user username=kim.lo \
  address=kim@example.test password=Known-Pass-2026 roles=User >/dev/null

as_user=()
if [ "$(id -u)" = 0 ]; then
  chown -R nobody:nogroup "$data"
  as_user=(-u nobody -g nogroup)
fi

if [ "$mode" = serve ]; then
  echo "Roundup $version on $base/tracker/ (data in $data; mail to 127.0.0.1:$smtp_port)" >&2
  exec "$venv/bin/roundup-server" "${as_user[@]}" -n 127.0.0.1 -p "$port" "tracker=$tracker"
fi

"$venv/bin/roundup-server" "${as_user[@]}" -n 127.0.0.1 -p "$port" "tracker=$tracker" \
  >"$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  if "$py" -c "import urllib.request as u; u.urlopen('$base/tracker/', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.2
done

if [ -n "${NOCALL:-}" ]; then
  nocall=("$NOCALL")
else
  nocall=(cargo run --quiet --manifest-path "$root/Cargo.toml" --bin nocall --)
fi
# The scenarios name nocall's SMTP port; a copy carries the one chosen here.
mkdir -p "$data/scenarios" "$out"
for f in "$here"/scenarios/*.yaml "$here"/scenarios-by-name/*.yaml; do
  sed "s|127.0.0.1:2532|127.0.0.1:$smtp_port|" "$f" >"$data/scenarios/$(basename "$f")"
done
echo "Roundup $version on $base/tracker/" >&2
"${nocall[@]}" run "$data/scenarios" --base-url "$base" --fail-on none --format json \
  --out "$out/journeys" >"$out/journeys.json"
"${nocall[@]}" links "$base/tracker/" --max-pages 60 --fail-on none --format json \
  --out "$out/links" >"$out/links.json"
echo "reports: $out/journeys.json $out/links.json; screenshots under $out; server log: $data/server.log" >&2
