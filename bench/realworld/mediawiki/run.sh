#!/usr/bin/env bash
# Real-world check of nocall on MediaWiki as Debian packages it (`mediawiki`, with SQLite),
# installed non-interactively into a temporary folder and served by PHP's built-in server:
# create an account (the wiki mails an address confirmation), log out and in, "Forgot your
# password?" (a mail with a temporary password and the log-in link), and a `nocall links`
# crawl. $wgSMTP points at the SMTP listener nocall runs during the journeys. Findings are
# judged in docs/realworld.md.
#
#   bench/realworld/mediawiki/run.sh          # install, serve, run the journeys and the crawl, stop
#   bench/realworld/mediawiki/run.sh serve    # only serve (Ctrl-C to stop); prints the URL
#
# Needs: apt-get install -y mediawiki php-sqlite3 (run.sh does it when root and missing).
# Environment: PORT (default: a free one), SMTP_PORT (default 2531: nocall listens there),
# NOCALL (the nocall binary; default: cargo run), OUT (default: a temporary folder).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
mode=${1:-check}
smtp_port=${SMTP_PORT:-2531}
mw=/usr/share/mediawiki

if [ ! -f "$mw/maintenance/install.php" ] || ! php -m 2>/dev/null | grep -qx pdo_sqlite; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q mediawiki php-sqlite3 >/dev/null
  else
    echo "needs: sudo apt-get install -y mediawiki php-sqlite3" >&2
    exit 3
  fi
fi
version=$(dpkg-query -W -f='${Version}' mediawiki 2>/dev/null || echo unknown)

port=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
data=$(mktemp -d "${TMPDIR:-/tmp}/nocall-mediawiki.XXXXXX")
out=${OUT:-$data/out}
base="http://127.0.0.1:$port"
export MW_CONFIG_FILE="$data/LocalSettings.php"

# The installer's defaults (e-mail on, anyone may create an account, address confirmation on),
# plus what a site needs to send mail: a sender and the SMTP server (nocall's listener).
php "$mw/maintenance/install.php" --dbtype sqlite --dbpath "$data/db" --server "$base" \
  --scriptpath "" --lang en --pass "admin-$(date +%s%N)" --confpath "$data" \
  "Team Wiki" WikiAdmin >"$data/install.log"
cat >>"$data/LocalSettings.php" <<PHP
\$wgPasswordSender = "wiki@wiki.example.test";
\$wgEmergencyContact = "wiki@wiki.example.test";
\$wgSMTP = [ 'host' => '127.0.0.1', 'IDHost' => 'wiki.example.test', 'localhost' => 'localhost',
  'port' => $smtp_port, 'auth' => false ];
PHP
# The account the password-reset journey recovers (made as an administrator would).
php "$mw/maintenance/createAndPromote.php" "Sam Roe" Forgotten-Pass-2025 >/dev/null
php "$mw/maintenance/resetUserEmail.php" --no-reset-password "Sam Roe" sam@example.test >/dev/null

if [ "$mode" = serve ]; then
  echo "MediaWiki $version on $base/ (data in $data; mail to 127.0.0.1:$smtp_port)" >&2
  exec php -S "127.0.0.1:$port" -t "$mw"
fi

php -S "127.0.0.1:$port" -t "$mw" >"$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  if curl -s -o /dev/null "$base/index.php/Main_Page"; then
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
for f in "$here"/scenarios/*.yaml; do
  sed "s|127.0.0.1:2531|127.0.0.1:$smtp_port|" "$f" >"$data/scenarios/$(basename "$f")"
done
echo "MediaWiki $version on $base/" >&2
"${nocall[@]}" run "$data/scenarios" --base-url "$base" --fail-on none --format json \
  --out "$out/journeys" >"$out/journeys.json"
"${nocall[@]}" links "$base/" --max-pages 60 --fail-on none --format json \
  --out "$out/links" >"$out/links.json"
echo "reports: $out/journeys.json $out/links.json; screenshots under $out; server log: $data/server.log" >&2
