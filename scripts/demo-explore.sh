#!/usr/bin/env bash
# What scripts/demo.sh prints when it is done: how to explore the lab it left up, and how to
# take it down. A script of its own so that a test can read what it prints
# (test/unit/demo-explore.test.ts) without running the demo.
set -euo pipefail
cat <<'EOF'
Explore:
  xctl get nodes | hs -o wide | nic | mvn -o wide        the objects, with their status
  xctl describe nic host-1-test-eth1                      spec, status and conditions of one object
  xctl lab exec host-1 -- ip route                        host-1's routes (proto 76 = made by xnet)
  xctl lab exec host-1 -- docker exec -it test sh         a shell in host-1's container
  xctl lab exec host-2 -- docker run --rm --net macvlan200 xnet/busybox:latest ip -4 addr
  xctl lab exec host-1 -- ip route del 10.76.2.0/24       break something; the agent puts it back
  xctl lab status                                         every process of the lab, alive or dead
Tear down:
  xctl lab down                                           removes every namespace, process and mount
(`xctl` is `npx xctl` from the repository root, or on PATH after a global install.)
EOF
