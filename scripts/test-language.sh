#!/usr/bin/env bash
# Builds one jsii binding with `npx projen package:<lang>` and runs its tests (test/<lang>) on aws-cdk-lib at
# the supported floor: `bash scripts/test-language.sh python|java|go`.
set -euo pipefail
cd "$(dirname "$0")/.."
lang="${1:?usage: test-language.sh python|java|go}"
version=$(node -p "require('./package.json').version")

npx projen "package:$lang"
case "$lang" in
  python)
    venv=$(bash scripts/python-venv.sh test/python/requirements.txt)
    # The wheel just built, into the venv (replacing the one from a previous run), then pytest.
    "$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps \
      "dist/python/cdk_direct_upload-$version-py3-none-any.whl"
    (cd test/python && "$venv/bin/python" -m pytest -p no:cacheprovider)
    ;;
  java)
    # Maven copies dist/java's artifact into ~/.m2 once per version: drop that copy so this build is tested.
    rm -rf "$HOME/.m2/repository/dev/cdk-direct-upload"
    (cd test/java && mvn -B --no-transfer-progress "-Dcdk-direct-upload.version=$version" test)
    ;;
  go)
    (cd test/go && go test -count=1 -v ./...)
    ;;
  *)
    echo "unknown language: $lang (python, java or go)" >&2
    exit 2
    ;;
esac
