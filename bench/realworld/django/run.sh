#!/usr/bin/env bash
# Real-world check of nocall's label checks on pages no one here wrote: Django's own auth
# forms (login, sign-up with UserCreationForm, password reset with the admin's templates),
# served locally from PyPI's Django. Expected result: every journey completes, zero findings.
#
#   bench/realworld/django/run.sh           # serve, run nocall on scenarios/, stop; exit = nocall's
#   bench/realworld/django/run.sh serve     # only serve (Ctrl-C to stop); prints the URL
#
# Environment: PORT (default: a free one), NOCALL (the nocall binary; default: cargo run),
# NOCALL_DJANGO_VENV (default: ~/.cache/nocall/django-venv), NOCALL_SMTP (host:port for mail).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
mode=${1:-check}
venv=${NOCALL_DJANGO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/nocall/django-venv}

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# Django 6 needs Python 3.12; pip picks the newest release this Python can run.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'Django>=5.2,<7'
py="$venv/bin/python"

port=${PORT:-$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
data=$(mktemp -d "${TMPDIR:-/tmp}/nocall-django.XXXXXX")
export NOCALL_DJANGO_DATA="$data"
"$py" "$here/site.py" migrate -v0
base="http://127.0.0.1:$port"

if [ "$mode" = serve ]; then
  echo "Django auth views on $base (data in $data)" >&2
  exec "$py" "$here/site.py" runserver "127.0.0.1:$port" --noreload
fi

"$py" "$here/site.py" runserver "127.0.0.1:$port" --noreload >"$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  if "$py" -c "import urllib.request as u; u.urlopen('$base/accounts/login/', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.2
done

if [ -n "${NOCALL:-}" ]; then
  nocall=("$NOCALL")
else
  nocall=(cargo run --quiet --manifest-path "$root/Cargo.toml" --bin nocall --)
fi
status=0
"${nocall[@]}" run "$here/scenarios" --base-url "$base" --fail-on any \
  --report "json=$data/report.json" || status=$?
if [ ! -s "$data/report.json" ]; then
  echo "nocall wrote no report: is the runner built? (server log: $data/server.log)" >&2
  exit 3
fi
echo "report: $data/report.json; server log: $data/server.log" >&2
exit "$status"
