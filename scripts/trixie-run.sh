#!/usr/bin/env bash
# Runs a command from the checkout inside the cached Debian 13 root of
# scripts/trixie-root.sh, where uWebSockets.js loads (glibc >= 2.38):
#   bash scripts/trixie-run.sh node dist/tests/bench/run.js --only join
# scripts/test-uws.sh runs the uWS suites through it. Needs root and a built
# dist/.
#
# The checkout is bind-mounted at its own path, so coverage paths match the
# host's. Mounts live in a private mount namespace (unshare) and vanish when
# the run ends. node_modules is shared with the host except for one
# directory: the host's mediasoup-worker was linked against Debian 12's
# libraries, so the root gets its own worker/out, filled before the command by
# scripts/install-worker.mjs from a Debian 13 build (made once, about 4 min on
# 2 idle cores) that is cached beside the root, so a new root reuses it.
# LISTENER, CI and DEBUG pass through to the command.

set -euo pipefail

checkout=$(cd "$(dirname "$0")/.." && pwd -P)

if [[ $# -eq 0 ]]; then
	echo "usage: bash scripts/trixie-run.sh COMMAND [ARG...]" >&2
	exit 2
fi
if [[ ! -d "$checkout/dist/tests" ]]; then
	echo "trixie-run: $checkout/dist is not built; run \`npm run build\` first" >&2
	exit 1
fi

root=$(bash "$checkout/scripts/trixie-root.sh")
worker_out="$checkout/node_modules/mediasoup/worker/out"
worker_cache="$root-mediasoup-worker"

mkdir -p "$root$checkout" "$root/var/lib/vcall/mediasoup-worker-out" "$worker_out" "$worker_cache"
# apt inside the root (the worker's build dependencies) resolves names as the host does.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

exec unshare --mount --propagation private -- bash -euo pipefail -c '
	root=$1 checkout=$2 worker_out=$3 worker_cache=$4
	shift 4
	mount -t proc proc "$root/proc"
	mount -t sysfs -o ro sysfs "$root/sys"
	mount --rbind /dev "$root/dev"
	mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
	# Again after the tmpfs: a checkout under /tmp has its mount point on it.
	mkdir -p "$root$checkout"
	mount --bind "$checkout" "$root$checkout"
	mount --bind "$root/var/lib/vcall/mediasoup-worker-out" "$root$worker_out"
	mkdir -p "$root/var/cache/vcall"
	mount --bind "$worker_cache" "$root/var/cache/vcall"
	exec chroot "$root" /usr/bin/env -i -C "$checkout" \
		HOME=/root PATH=/opt/node/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 VCALL_WORKER_CACHE=/var/cache/vcall \
		CI="${CI:-}" DEBUG="${DEBUG:-}" LISTENER="${LISTENER:-}" \
		sh -ec "node scripts/install-worker.mjs && exec \"\$@\"" trixie-run "$@"
' trixie-run "$root" "$checkout" "$worker_out" "$worker_cache" "$@"
