#!/usr/bin/env bash
# Runs every test: on SQLite and PostgreSQL, the interoperability tests against the reference
# npm packages, and the browser tests in Debian's Chromium. Starts what they need.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

# PostgreSQL: start the local cluster if it is installed but not running.
if [[ "${SMARTNATION_TEST_DATABASES:-sqlite,postgresql}" == *postgresql* ]]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null; then
      version=$(ls /etc/postgresql | sort -V | tail -n 1)
      echo "Starting PostgreSQL $version"
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
      for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || {
    echo "PostgreSQL is not running on 127.0.0.1:5432. Install it (apt-get install postgresql)" >&2
    echo "or run only the SQLite half: SMARTNATION_TEST_DATABASES=sqlite make test" >&2
    exit 1
  }
fi

# Debian's Chromium for the browser tests (never a downloaded browser).
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests"
  as_root apt-get update -qq && as_root apt-get install -y -qq chromium >/dev/null
fi

# The reference implementations the interoperability tests run, each in its own npm project.
for project in tests/interop/*/; do
  if [ -f "$project/package-lock.json" ] && [ ! -d "$project/node_modules" ]; then
    echo "Reference implementations in $project"
    (cd "$project" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

# Two processes by default (each has its own databases and, for the browser tests, its own server);
# a file's tests stay together so its session fixtures start once. SMARTNATION_TEST_WORKERS=0 runs
# everything in this process.
workers="${SMARTNATION_TEST_WORKERS:-2}"
if [ "$workers" != "0" ] && [[ " $* " != *" -n "* ]]; then
  set -- -n "$workers" --dist loadfile "$@"
fi
exec .venv/bin/pytest "$@"
