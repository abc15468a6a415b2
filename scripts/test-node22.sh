#!/usr/bin/env bash
# The Lambda functions run on Node 22 (nodejs22.x): run the handler unit tests (test/signer, test/verifier)
# under Node 22 as well, so a difference from Node 20, which builds and tests everything else, cannot hide.
# Node 22 comes from the npm registry's `node` package, through npx (cached in ~/.npm/_npx), not as a
# devDependency: that would put its `node` first on the PATH of every npm script and task.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE22=node@22.23.3
npx --yes --package "$NODE22" -- bash -c '
  set -euo pipefail
  case "$(node --version)" in v22.*) ;; *) echo "expected Node 22, got $(node --version)"; exit 1;; esac
  echo "== handler unit tests on node $(node --version)"
  node node_modules/jest/bin/jest.js --ci "$@" test/signer/ test/verifier/
' node22 "$@"
