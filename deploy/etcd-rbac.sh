#!/usr/bin/env bash
# Limits each node's etcd user to writing its own status prefix (docs/design.md, key layout).
# Usage: deploy/etcd-rbac.sh NODE... (run with etcdctl pointed at the cluster, as root user)
set -euo pipefail
etcdctl role add xnet-reader >/dev/null || true
etcdctl role grant-permission xnet-reader --prefix=true read /xnet/
for node in "$@"; do
  etcdctl user add "node-$node" --new-user-password="$(head -c 24 /dev/urandom | base64)" >/dev/null || true
  etcdctl role add "node-$node" >/dev/null || true
  etcdctl role grant-permission "node-$node" --prefix=true readwrite "/xnet/registry/status/nodes/$node/"
  etcdctl role grant-permission "node-$node" readwrite "/xnet/leases/nodes/$node"
  # an agent registers its Node object when none exists
  etcdctl role grant-permission "node-$node" readwrite "/xnet/registry/objects/nodes/$node"
  etcdctl user grant-role "node-$node" xnet-reader "node-$node"
done
