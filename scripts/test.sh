#!/usr/bin/env bash
# The whole test run, as the README gives it: what the tests need, lint, type-check, build, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm run lint
npm run typecheck
npm run build
node scripts/run-tests.mjs "$@"
