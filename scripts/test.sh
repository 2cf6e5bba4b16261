#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, then runs every tier
# (unit, integration against real etcd, end-to-end in network namespaces with real dockerd).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/report.json" "$@" || status=$?
# one plain closing line that any CI can read
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$out/report.json" 2>/dev/null || true
exit $status
