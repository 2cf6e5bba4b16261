#!/usr/bin/env bash
# What scripts/demo.sh prints when it is done: how to explore the lab it left up, and how to
# take it down. A script of its own so that a test can read what it prints
# (test/unit/demo-explore.test.ts) without running the demo.
#
#   demo-explore.sh       the closing text
#   demo-explore.sh env   only the variables that chose the lab, as a command's prefix
set -euo pipefail

# xctl finds its lab by XNET_LAB_ID and XNET_LAB_DIR (pkg/lab/record.ts, defaultLabDir): a
# command printed without those the demo ran with reaches another lab (the user's) or none,
# and `xctl lab down` would take down the wrong one
lab_env() {
  local e=""
  if [ -n "${XNET_LAB_ID:-}" ]; then e+="XNET_LAB_ID=$(printf %q "$XNET_LAB_ID") "; fi
  if [ -n "${XNET_LAB_DIR:-}" ]; then e+="XNET_LAB_DIR=$(printf %q "$XNET_LAB_DIR") "; fi
  printf '%s' "$e"
}
ENV=$(lab_env)
if [ "${1:-}" = env ]; then printf '%s' "$ENV"; exit 0; fi

if [ -n "$ENV" ]; then echo "Explore (xctl finds this lab by its variables: first export ${ENV% }):"; else echo "Explore:"; fi
cat <<'EOF'
  xctl get nodes | hs -o wide | nic | mvn -o wide        the objects, with their status
  xctl describe nic host-1-test-eth1                      spec, status and conditions of one object
  xctl lab exec host-1 -- ip route                        host-1's routes (proto 76 = made by xnet)
  xctl lab exec host-1 -- docker exec -it test sh         a shell in host-1's container
  xctl lab exec host-2 -- docker run --rm --net macvlan200 xnet/busybox:latest ip -4 addr
  xctl lab exec host-1 -- ip route del 10.76.2.0/24       break something; the agent puts it back
  xctl lab status                                         every process of the lab, alive or dead
Tear down:
EOF
printf '  %-54s  %s\n' "${ENV}xctl lab down" 'removes every namespace, process and mount'
# shellcheck disable=SC2016
echo '(`xctl` is `npx xctl` from the repository root, or on PATH after a global install.)'
