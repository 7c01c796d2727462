#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh machine
# (Debian packages, npm packages), then type-checks, builds and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
npm ci
bash scripts/setup-python.sh
bash scripts/fetch-labelled-ct.sh
status=0
npm test || status=$?
node_modules/.bin/node scripts/test-summary.ts test-artifacts/vitest-results.json || status=1
exit $status
