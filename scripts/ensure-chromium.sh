#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with playwright-core (no browser download).
# Installs it when missing and we may (root + apt-get); otherwise says exactly what to do.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing; installing Debian's chromium with apt-get (once)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  [ -x "$CHROMIUM" ] && exit 0
fi
echo "ensure-chromium: the browser tests need Chromium at $CHROMIUM." >&2
echo "  Debian/Ubuntu: sudo apt-get install chromium   (or set CHROMIUM_PATH to another Chromium binary)" >&2
exit 1
