#!/usr/bin/env bash
# `npm run chaos`: the fault suite (bench/chaos, docs/faults.md). Not part of `npm test`: it
# takes about 15 minutes and needs the whole machine. Root; it builds its own lab in network
# namespaces and removes it at the end (also on failure and Ctrl-C).
#   npm run chaos -- --faults 1,4 --nics 500      (see bench/chaos/run.ts for the flags)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# the prober is a static C program (cc -static needs libc6-dev); fault 8 preloads libfaketime
missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=(libc6-dev)
[ -f /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 ] || missing+=(libfaketime)
if [ ${#missing[@]} -gt 0 ]; then
  printf '\033[1m==> installing Debian packages: %s\033[0m\n' "${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
exec node dist/bench/chaos/run.js "$@"
