#!/usr/bin/env bash
# Translations: extract the French source strings, merge them into the catalogs, compile.
#   scripts/i18n.sh update    extract + merge into wallet/translations/{fr,en}/LC_MESSAGES/messages.po
#   scripts/i18n.sh compile   build the .mo files (make run / make test do this)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
T=wallet/translations
case "${1:-}" in
  update)
    "$PYBABEL" -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --omit-header --sort-output \
      -o "$T/messages.pot" . >/dev/null
    for lang in fr en; do
      if [ -f "$T/$lang/LC_MESSAGES/messages.po" ]; then
        "$PYBABEL" -q update -i "$T/messages.pot" -d "$T" -l "$lang" --no-fuzzy-matching >/dev/null
      else
        "$PYBABEL" -q init -i "$T/messages.pot" -d "$T" -l "$lang" >/dev/null
      fi
    done
    # French is the source language: its catalog holds the plural entries and the French spacing.
    "$(dirname "$PYBABEL")/python" scripts/fr_catalog.py
    echo "untranslated in English:"; "$(dirname "$PYBABEL")/python" scripts/translate_missing.py list
    ;;
  compile)
    "$PYBABEL" compile -d "$T" --statistics 2>&1 | grep -v "^compiling" || true
    ;;
  *) echo "usage: $0 update|compile" >&2; exit 2 ;;
esac
