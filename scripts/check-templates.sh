#!/usr/bin/env bash
# cfn-lint (CloudFormation's resource specifications) on every template the suite synthesizes and on the
# example app's, checkov on the example app's; each finding is fixed or acknowledged with a reason in
# test/templates/acknowledged.json. The checkers come from PyPI into a venv (scripts/python-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=test/templates/out
rm -rf "$out" && mkdir -p "$out"
npx projen bundle >/dev/null
npx tsx test/templates/synth.ts "$out"
(cd examples && npx cdk synth --quiet --output "../$out/example.out" >/dev/null)
cp "$out/example.out/DirectUploadExample.template.json" "$out/example.template.json"
venv=$(bash scripts/python-venv.sh test/templates/requirements.txt)
"$venv/bin/python" test/templates/check.py "$out"
