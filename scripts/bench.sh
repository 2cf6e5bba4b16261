#!/usr/bin/env bash
# Runs every benchmark under bench/ (or the ones named: npm run bench -- ipam heal).
# Each prints its figures and the ratio to a baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=($(ls bench/*.ts | xargs -n1 basename | sed 's/\.ts$//'))
fi
for n in "${names[@]}"; do
  printf '\n=== bench/%s ===\n' "$n"
  node "dist/bench/$n.js"
done
