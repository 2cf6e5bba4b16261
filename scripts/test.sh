#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, then runs every tier
# (unit, integration against real etcd, end-to-end in network namespaces with real dockerd).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
# The tests are type-checked too (the build covers only cmd/, pkg/ and bench/): a fixture that
# no longer has the shape of what it stands for fails here, not silently in a test.
if [ $# -eq 0 ]; then
  npx tsc -p tsconfig.test.json || { echo "type errors in the tests (npx tsc -p tsconfig.test.json)" >&2; status=1; }
fi
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/report.json" "$@" || status=$?
# one plain closing line that any CI can read
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$out/report.json" 2>/dev/null || true
exit $status
