#!/usr/bin/env bash
# Extracts each package's page text into its own catalogue template and merges it into the Chinese,
# Malay and Tamil catalogues, ready for translators: src/smartnation/<package>/locale/.
set -euo pipefail
cd "$(dirname "$0")/.."
for package in src/smartnation/*/; do
  name=$(basename "$package")
  [ -f "$package/__init__.py" ] || continue
  locale="$package/locale"
  .venv/bin/pybabel extract -F babel.cfg -k _ -k N_ --no-location --sort-output \
    --project smartnation --copyright-holder "smartnation contributors" \
    -o "$locale.pot.tmp" "$package" >/dev/null 2>&1
  if ! grep -q '^msgid "[^"]' "$locale.pot.tmp"; then rm -f "$locale.pot.tmp"; continue; fi
  mkdir -p "$locale"
  mv "$locale.pot.tmp" "$locale/messages.pot"
  for lang in zh ms ta; do
    if [ -f "$locale/$lang/LC_MESSAGES/messages.po" ]; then
      .venv/bin/pybabel update --no-fuzzy-matching -i "$locale/messages.pot" -d "$locale" -l "$lang" >/dev/null 2>&1
    else
      .venv/bin/pybabel init -i "$locale/messages.pot" -d "$locale" -l "$lang" >/dev/null 2>&1
    fi
  done
  echo "$name: $(grep -c '^msgid "[^"]' "$locale/messages.pot") messages"
done
