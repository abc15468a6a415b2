#!/usr/bin/env bash
# Prints the path of a Python venv with REQUIREMENTS installed, creating it on first use. Venvs live outside
# the repository (the packagers must not see them) in ~/.cache/cdk-direct-upload, one per requirements file
# content, so a second run reuses it and a changed pin makes a new one. pip caches its downloads as usual.
set -euo pipefail
requirements="$1"
root="${CDK_DIRECT_UPLOAD_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/cdk-direct-upload}"
venv="$root/venv-$(basename "$(dirname "$requirements")")-$(sha256sum "$requirements" | cut -c1-12)"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  touch "$venv/.complete"
fi
echo "$venv"
