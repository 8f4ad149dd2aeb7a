#!/usr/bin/env bash
# Sets everything up on a fresh machine: Python environment (from the lock file) and web assets.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }

python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null
}

if ! need uv; then
  for py in python3.13 python3.12 python3.11 python3; do
    if need "$py" && python_ok "$py"; then
      echo "Installing uv (the Python package manager) with $py -m pip"
      "$py" -m pip install --quiet uv || "$py" -m pip install --quiet --user uv
      break
    fi
  done
  export PATH="$HOME/.local/bin:$PATH"
fi
need uv || { echo "Could not install uv: please install Python 3.11+ with pip" >&2; exit 1; }

echo "Python environment (.venv) from uv.lock"
uv sync --frozen --quiet

if need npm; then
  if [ ! -d node_modules/@govtechsg/sgds ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "Web assets (design system, htmx, axe-core) from package-lock.json"
    npm ci --no-audit --no-fund --loglevel=error
  fi
else
  echo "npm is missing: pages will work but without the design system's styles." >&2
  echo "Install Node.js 20+ (apt-get install nodejs npm) and run this again." >&2
fi
