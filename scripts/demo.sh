#!/usr/bin/env bash
# Runs the platform on its embedded default: SQLite under ./var, local stand-ins for outside
# providers, demo data, at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/smartnation demo load
exec .venv/bin/smartnation serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
