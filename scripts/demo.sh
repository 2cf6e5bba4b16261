#!/usr/bin/env bash
# The README's demo: a two-host lab on this machine, seeds 000 and 002 reproduced with
# `xctl apply` alone, then who reaches whom. Every command it runs is printed, so the output
# doubles as a walkthrough. Run as root from anywhere; `xctl lab down` removes it all (with the
# XNET_LAB_ID / XNET_LAB_DIR the demo ran with, which the commands it prints at the end carry).
#
#   XNET_DEMO_SKIP_SETUP=1   skip scripts/setup.sh (packages, npm ci, build)
#   XNET_DEMO_KEEP=0         take the lab down at the end instead of leaving it to explore
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

# the lab's directory as xctl picks it (pkg/lab/record.ts, defaultLabDir)
if [ -n "${XNET_LAB_DIR:-}" ]; then LAB_DIR="$XNET_LAB_DIR"
elif [ -n "${XNET_LAB_ID:-}" ] && [ "$XNET_LAB_ID" != xnet ]; then LAB_DIR="${TMPDIR:-/tmp}/xnet-lab-$XNET_LAB_ID"
else LAB_DIR=/var/lib/xnet-lab; fi

T0=$(date +%s)
step() { printf '\n\033[1m==> %s\033[0m  (%ss)\n' "$*" "$(( $(date +%s) - T0 ))"; }
show() { printf '  $ %s\n' "$*"; }
xctl() { node "$ROOT/dist/cmd/xctl.js" "$@"; }
# runs and echoes an xctl command the user could type
x() { show "xctl $*"; xctl "$@"; }
fail() { printf '\n\033[31mdemo failed: %s\033[0m\n' "$*" >&2; diagnose; exit 1; }
diagnose() {
  echo "--- lab status" >&2; xctl lab status >&2 || true
  local d="$LAB_DIR"
  for log in "$d"/host-*/agent.log "$d"/controller-*.log; do
    [ -f "$log" ] && { echo "--- $log (last lines)" >&2; tail -n 15 "$log" >&2; }
  done
  local env; env=$(bash "$ROOT/scripts/demo-explore.sh" env)
  echo "(the lab is left up to inspect: ${env}xctl lab status, ${env}xctl lab exec host-1 -- ip route; remove it with ${env}xctl lab down)" >&2
}

if [ "$(id -u)" != 0 ]; then echo "the demo builds network namespaces and Docker daemons: run it as root" >&2; exit 1; fi

if [ "${XNET_DEMO_SKIP_SETUP:-0}" != 1 ] && [ -f scripts/setup.sh ]; then
  step "setting up (packages, npm ci, build; quick when nothing is missing)"
  bash scripts/setup.sh
fi
[ -f dist/cmd/xctl.js ] || npm run build

if xctl lab status >/dev/null 2>&1 || [ -f "$LAB_DIR/lab.json" ]; then
  step "a lab is already up: taking it down to start clean"
  x lab down
fi

step "building a two-host lab: namespaces on one underlay, a Docker daemon each, etcd, controllers, agents"
x lab up --hosts 2 || fail "lab up"

step "waiting for both agents to register their Nodes"
for n in host-1 host-2; do xctl wait node "$n" --for condition=Ready --timeout 60s >/dev/null || fail "node $n not Ready"; done
x get nodes

step "seed 000 (direct routing + extra NICs) and seed 002 (macvlan across hosts), applied as objects"
x apply -f manifests/examples/seed000.yaml -f manifests/examples/seed002.yaml || fail "apply"

step "waiting for each host's bridge network and the macvlan network"
for hs in default-host-1 default-host-2; do
  xctl wait hs "$hs" --for condition=Ready --timeout 60s >/dev/null || fail "hostsubnet $hs not Ready"
done
xctl wait mvn macvlan200 --for condition=Ready --timeout 60s >/dev/null || fail "macvlannet macvlan200 not Ready"

step "starting the containers the examples name: 'test' on net1 and one macvlan container per host"
for i in 1 2; do
  show "xctl lab exec host-$i -- docker run -d --name test --net net1 xnet/busybox:latest sleep 1d"
  xctl lab exec "host-$i" -- docker run -d --name test --net net1 xnet/busybox:latest sleep 1d >/dev/null || fail "docker run test on host-$i"
  show "xctl lab exec host-$i -- docker run -d --name c$i --net macvlan200 xnet/busybox:latest sleep 1d"
  xctl lab exec "host-$i" -- docker run -d --name "c$i" --net macvlan200 xnet/busybox:latest sleep 1d >/dev/null || fail "docker run c$i on host-$i"
done

step "waiting for the agents to push eth1 and eth2 into each running 'test' container"
for nic in host-1-test-eth1 host-1-test-eth2 host-2-test-eth1 host-2-test-eth2; do
  xctl wait nic "$nic" --for condition=Ready --timeout 60s >/dev/null || fail "containernic $nic not Ready"
done

step "what xnet made (xctl get ...)"
x get clusternetworks
echo
x get hostsubnets -o wide
echo
x get containernics
echo
x get macvlannets -o wide

step "connectivity: every container address, pinged from the other host"
# name host address: eth0 of each container from its Docker daemon, eth1/eth2 from the NICs' status
addr_of() { xctl lab exec "$1" -- docker inspect -f "{{(index .NetworkSettings.Networks \"$3\").IPAddress}}" "$2"; }
nic_ip() { xctl get nic "$1" -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status?.ip??""))'; }
targets=()
for i in 1 2; do
  targets+=("host-$i test eth0 $(addr_of "host-$i" test net1) test")
  targets+=("host-$i test eth1 $(nic_ip "host-$i-test-eth1") test")
  targets+=("host-$i test eth2 $(nic_ip "host-$i-test-eth2") test")
  targets+=("host-$i c$i eth0 $(addr_of "host-$i" "c$i" macvlan200) c")
done
printf '\n  %-28s %-30s %-16s %s\n' "FROM" "TO" "ADDRESS" "RESULT"
failures=0
for t in "${targets[@]}"; do
  read -r host ctr ifname ip kind <<<"$t"
  if [ "$host" = host-1 ]; then from=host-2; fi
  if [ "$host" = host-2 ]; then from=host-1; fi
  # cluster addresses from the other host's 'test' container (container to container, routed);
  # macvlan addresses from the other host's macvlan container (one L2 segment)
  if [ "$kind" = test ]; then src=test; else src="c${from#host-}"; fi
  if [ -z "$ip" ]; then res="no address"; failures=$((failures+1)); else
    out=$(xctl lab exec "$from" -- docker exec "$src" ping -c 3 -i 0.2 -W 1 "$ip" 2>/dev/null || true)
    rtt=$(sed -n 's#.*min/avg/max = [0-9.]*/\([0-9.]*\)/.*#\1#p' <<<"$out")
    ttl=$(sed -n 's/.*ttl=\([0-9]*\).*/\1/p' <<<"$out" | head -n1)
    if [ -n "$rtt" ]; then res="ok  ${rtt} ms avg, ttl ${ttl}"; else res="UNREACHABLE"; failures=$((failures+1)); fi
  fi
  printf '  %-28s %-30s %-16s %s\n' "$from/$src" "$host/$ctr $ifname" "${ip:--}" "$res"
done
echo
echo "  ttl 62: routed through both hosts, no overlay (seed 000); ttl 64: one L2 segment (seed 002)."
for i in 1 2; do
  ip=$(addr_of "host-$i" "c$i" macvlan200)
  out=$(xctl lab exec "host-$i" -- ping -c 2 -i 0.2 -W 1 "$ip" 2>/dev/null || true)
  rtt=$(sed -n 's#.*min/avg/max = [0-9.]*/\([0-9.]*\)/.*#\1#p' <<<"$out")
  if [ -n "$rtt" ]; then res="ok  $rtt ms avg (through the host shim; in the seed this failed)"; else res="UNREACHABLE"; failures=$((failures+1)); fi
  printf '  host-%s itself -> its own macvlan container c%s %s: %s\n' "$i" "$i" "$ip" "$res"

done

step "no NAT inside the cluster: the receiver sees the sender container's own address"
# a listener on host-1 that answers every connection with its own connection table
xctl lab exec host-1 -- docker run -d --name rx --net net1 xnet/busybox:latest nc -ll -p 7000 -e netstat -tn >/dev/null
rx=$(addr_of host-1 rx net1)
sender=$(addr_of host-2 test net1)
seen=""
for _ in 1 2 3 4 5; do
  seen=$(xctl lab exec host-2 -- docker exec test nc -w 2 "$rx" 7000 2>/dev/null | grep -o "$sender:[0-9]*" | head -n1 || true)
  [ -n "$seen" ] && break
  sleep 0.3
done
show "xctl lab exec host-2 -- docker exec test nc $rx 7000     (host-1/rx answers with netstat -tn)"
if [ -n "$seen" ]; then
  echo "  host-1/rx saw the connection from $seen: host-2/test's own address, not host-2's 198.18.0.12"
else
  echo "  host-1/rx did not report host-2/test's address $sender"; failures=$((failures+1))
fi

step "the cluster as xnet sees it (xctl topology; -o svg draws it with Graphviz)"
x topology || true
if command -v dot >/dev/null; then
  svg="$LAB_DIR/topology.svg"
  xctl topology -o svg >"$svg" && echo "  drawn: $svg"
fi

step "every host against what etcd declares (xctl lab verify)"
x lab verify || failures=$((failures+1))

step "done"
bash "$ROOT/scripts/demo-explore.sh"
if [ "${XNET_DEMO_KEEP:-1}" = 0 ]; then step "taking the lab down (XNET_DEMO_KEEP=0)"; x lab down; fi
if [ "$failures" -gt 0 ]; then fail "$failures check(s) failed (unreachable addresses or lab verify differences)"; fi
