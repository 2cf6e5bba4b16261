#!/usr/bin/env bash
# Installs what xnet's demo and tests need on Debian 12, and only what is missing:
# a second run on a prepared machine takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "xnet setup: run as root (it creates network namespaces and Docker daemons)" >&2
  exit 2
fi

# command -> Debian package that provides it
declare -A need=(
  [etcd]=etcd-server [etcdctl]=etcd-client [dockerd]=docker.io [containerd]=containerd
  [runc]=runc [iptables]=iptables [ip]=iproute2 [nsenter]=util-linux [findmnt]=util-linux
  [node]=nodejs [npm]=npm [nft]=nftables [setpriv]=util-linux
  # certificates of the etcd identities (pkg/auth/pki.ts)
  [openssl]=openssl
  # ARP probes before a MacvlanNet address goes to a container (dockerIPAM xnet)
  [arping]=iputils-arping
)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# the lab's image is /bin/busybox from busybox-static (a static binary runs in an empty rootfs)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  say "installing Debian packages: $pkgs"
  # Installing docker.io or etcd-server would start their services in the root namespace
  # (dockerd rewrites its iptables); xnet starts its own daemons inside lab namespaces only,
  # so services are kept from starting for the duration of the install (policy-rc.d, exit 101).
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  trap '[ "$made_policy" = 1 ] && rm -f "$policy"' EXIT
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
  [ "$made_policy" = 1 ] && rm -f "$policy" && made_policy=0
fi

# xnet needs Node.js 20 or later (package.json engines); Debian 12's own nodejs is 18
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "xnet setup: Node.js $(node -v) is too old; xnet needs Node.js 20 or later." >&2
  echo "  Install it from NodeSource (deploy/README.md, section 3, Programs), then run this again." >&2
  exit 2
fi

# npm ci when node_modules is missing or older than the lock file
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

say "build"
npx tsc -p tsconfig.json --incremental --tsBuildInfoFile dist/.tsbuildinfo
node scripts/bundle.mjs
node scripts/mark-bins.mjs
node dist/cmd/gen-schemas.js --check >/dev/null
