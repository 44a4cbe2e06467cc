#!/usr/bin/env bash
# Installs vcall as a systemd service on this host (one VPS), or into an
# alternate root directory. Idempotent: a re-run changes only what differs,
# never overwrites /etc/vcall/env, and says "0 changes" when all is in place.
#
#   /opt/vcall                    built app + production node_modules (root-owned)
#   /opt/vcall.prev               the previous release, for a quick rollback
#   /etc/vcall/env                configuration, from .env.example (0640 root:vcall)
#   /etc/systemd/system/vcall.service
#   /etc/sysusers.d/vcall.conf    the system user vcall (no login shell, no home)
#   /etc/sysctl.d/90-vcall.conf   BBR, keepalive, UDP buffers
#
# Run from a checkout as root: sudo scripts/deploy.sh [--dry-run] [--root DIR] [--skip-build]

set -euo pipefail
umask 022

usage() {
	cat <<'EOF'
Usage: scripts/deploy.sh [options]

Builds vcall in this checkout, installs it under /opt/vcall, creates the
system user vcall, writes /etc/vcall/env from .env.example (only if missing),
installs and starts the systemd unit, tunes sysctl, and prints the firewall
rules for the ports configured in /etc/vcall/env. Safe to re-run.

Options:
  --dry-run     print every action, change nothing
  --root DIR    install into DIR (DIR/opt/vcall, DIR/etc/...), e.g. an image:
                the host's users, sysctl and running systemd are not touched
                (the unit is enabled with systemctl --root=DIR)
  --skip-build  use the existing dist/ and node_modules/ (no npm ci, no build)
  --drain       when a running vcall must be restarted for a new release:
                drain it first (new rooms refused, calls in progress go on)
                and restart once the last room has closed, at most DRAIN_TIMEOUT;
                default: restart at once (calls are closed with roomClosed)
  -h, --help    this text
EOF
}

DRY_RUN=0
SKIP_BUILD=0
DRAIN=0
ROOT=''

while (($#)); do
	case $1 in
		--dry-run) DRY_RUN=1 ;;
		--skip-build) SKIP_BUILD=1 ;;
		--drain) DRAIN=1 ;;
		--root)
			[[ $# -ge 2 && -n $2 ]] || { echo "deploy: --root needs a directory" >&2; exit 2; }
			ROOT=$(realpath -m -- "$2")
			shift
			;;
		--root=*) ROOT=$(realpath -m -- "${1#--root=}") ;;
		-h | --help) usage; exit 0 ;;
		*) echo "deploy: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

[[ $ROOT == / ]] && ROOT=''

SRC=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
APP=$ROOT/opt/vcall
ENV_DIR=$ROOT/etc/vcall
ENV_FILE=$ENV_DIR/env
UNIT_FILE=$ROOT/etc/systemd/system/vcall.service
SYSUSERS_FILE=$ROOT/etc/sysusers.d/vcall.conf
SYSCTL_FILE=$ROOT/etc/sysctl.d/90-vcall.conf
TURN_CONF=$ROOT/etc/turnserver.conf

CHANGES=0
APP_CHANGED=0
UNIT_CHANGED=0

say() { printf 'deploy: %s\n' "$*"; }
warn() { printf 'deploy: WARNING: %s\n' "$*" >&2; }
die() { printf 'deploy: ERROR: %s\n' "$*" >&2; exit 1; }
changed() { CHANGES=$((CHANGES + 1)); }

# Every action goes through run: printed always, executed unless --dry-run.
run() {
	printf '  + %s\n' "$*"
	((DRY_RUN)) || "$@"
}

# --- checks -------------------------------------------------------------------

preflight() {
	((DRY_RUN)) || ((EUID == 0)) || die "run as root (sudo), or try --dry-run"
	[[ -f $SRC/package.json && -f $SRC/.env.example && -f $SRC/systemd/vcall.service ]] ||
		die "$SRC does not look like a vcall checkout"
	if [[ -n $ROOT ]]; then
		say "alternate root $ROOT: the host's users, sysctl and systemd are not touched"
	elif [[ ! -x /usr/bin/node ]]; then
		die "/usr/bin/node is missing (the unit runs it): install Node.js >= 20.19 from Debian 13 or NodeSource"
	elif ! /usr/bin/node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
		die "/usr/bin/node is $(/usr/bin/node -v); vcall needs >= 20.19"
	fi
}

# --- build ----------------------------------------------------------------------

build() {
	if ((SKIP_BUILD)); then
		say "--skip-build: using the existing dist/ and node_modules/"
	else
		say "building in $SRC (npm ci also provides the mediasoup worker; may take minutes)"
		(cd "$SRC" && run npm ci && run npm run build)
	fi
	((DRY_RUN)) && return 0
	[[ -f $SRC/dist/server/main.js ]] || die "$SRC/dist/server/main.js is missing: run npm run build (or drop --skip-build)"
	[[ -d $SRC/node_modules ]] || die "$SRC/node_modules is missing: run npm ci (or drop --skip-build)"
}

# --- files ----------------------------------------------------------------------

octal() { printf '%o' "$((8#$1))"; }

# install_file SRC DEST MODE GROUP: root-owned copy, rewritten only when the
# content, mode or group differs; returns 1 when it was already in place.
install_file() {
	local src=$1 dest=$2 mode=$3 group=$4

	if [[ -f $dest ]] && cmp -s -- "$src" "$dest" && [[ $(stat -c '%a %u %g' -- "$dest") == "$(octal "$mode") 0 $group" ]]; then
		say "unchanged $dest"
		return 1
	fi
	say "installing $dest"
	run install -D -m "$mode" -o 0 -g "$group" -- "$src" "$dest"
	changed
}

# write_file DEST MODE: like install_file, content on stdin.
write_file() {
	local dest=$1 mode=$2 tmp rc=0

	tmp=$(mktemp)
	cat >"$tmp"
	install_file "$tmp" "$dest" "$mode" 0 || rc=$?
	rm -f -- "$tmp"
	return "$rc"
}

ensure_dir() {
	local dir=$1 mode=$2 group=$3

	[[ -d $dir && $(stat -c '%a %u %g' -- "$dir") == "$(octal "$mode") 0 $group" ]] && return 0
	run install -d -m "$mode" -o 0 -g "$group" -- "$dir"
	changed
}

# --- user -----------------------------------------------------------------------

VCALL_GID=''

lookup_gid() {
	if [[ -n $ROOT ]]; then
		VCALL_GID=$(awk -F: '$1 == "vcall" { print $3 }' "$ROOT/etc/group" 2>/dev/null || true)
	else
		VCALL_GID=$(getent group vcall | cut -d: -f3 || true)
	fi
}

# A sysusers.d entry rather than a bare useradd: it documents the user, works
# the same with --root (systemd-sysusers --root), and is idempotent.
ensure_user() {
	write_file "$SYSUSERS_FILE" 0644 <<'EOF' || true
# vcall: written by scripts/deploy.sh. System user for vcall.service: no
# login shell, no home directory.
u vcall - "vcall video call server" /nonexistent /usr/sbin/nologin
EOF
	lookup_gid
	if [[ -n $VCALL_GID ]]; then
		say "unchanged user vcall"
		return
	fi
	say "creating system user vcall"
	if command -v systemd-sysusers >/dev/null; then
		if [[ -n $ROOT ]]; then
			run systemd-sysusers --root "$ROOT" "$SYSUSERS_FILE"
		else
			run systemd-sysusers "$SYSUSERS_FILE"
		fi
	elif [[ -z $ROOT ]]; then
		run useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --comment "vcall video call server" vcall
	else
		die "systemd-sysusers is missing: cannot create user vcall inside $ROOT"
	fi
	changed
	lookup_gid
	if [[ -z $VCALL_GID ]]; then
		((DRY_RUN)) || die "user vcall was not created"
		VCALL_GID=vcall
	fi
}

# --- app ------------------------------------------------------------------------

# same_tree A B: same files, symlinks, content and modes.
same_tree() {
	diff -rq --no-dereference -- "$1" "$2" >/dev/null 2>&1 &&
		[[ $(cd -- "$1" && find . -printf '%P %y %m\n' | sort) == "$(cd -- "$2" && find . -printf '%P %y %m\n' | sort)" ]]
}

# The release is staged next to /opt/vcall and swapped in with two renames.
# node_modules is the checkout's (built by npm ci, with the mediasoup worker
# binary in it) pruned to production dependencies, rather than a second
# `npm ci --omit=dev` in /opt: no registry access, no second worker build (or
# its cache) at deploy time, and exactly the tree that was built and tested.
install_app() {
	local stage=$APP.new

	if ((DRY_RUN)); then
		say "would stage the release in $stage: package.json, package-lock.json, .env.example, README.md, dist/ (without tests), scripts/, systemd/, node_modules/ pruned with npm prune --omit=dev; and replace $APP with it if it differs (previous one kept as $APP.prev)"
		return
	fi

	rm -rf -- "$stage"
	mkdir -p -- "$stage"
	cp -a -- "$SRC/package.json" "$SRC/package-lock.json" "$SRC/.env.example" "$SRC/README.md" \
		"$SRC/dist" "$SRC/scripts" "$SRC/systemd" "$SRC/node_modules" "$stage/"
	rm -rf -- "$stage/dist/tests"
	(cd -- "$stage" && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund --loglevel=error >/dev/null)
	find "$stage/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -delete
	chown -R 0:0 -- "$stage"
	chmod -R u+rwX,go+rX,go-w -- "$stage"

	if [[ -d $APP ]] && same_tree "$stage" "$APP"; then
		rm -rf -- "$stage"
		say "unchanged $APP"
		return
	fi
	say "installing $APP"
	if [[ -d $APP ]]; then
		run rm -rf -- "$APP.prev"
		run mv -- "$APP" "$APP.prev"
	fi
	run mv -- "$stage" "$APP"
	APP_CHANGED=1
	changed
}

check_worker() {
	local bin=$APP/node_modules/mediasoup/worker/out/Release/mediasoup-worker

	((DRY_RUN)) && return 0
	[[ -x $bin || -n $(env_get MEDIASOUP_WORKER_BIN '') ]] ||
		warn "$bin is missing: the server cannot start. Run npm ci in $SRC (it builds or fetches the worker), then deploy again."
}

# --- configuration ----------------------------------------------------------------

# env_get VAR DEFAULT: the last VAR=value of the env file (the one written, or
# .env.example in a dry run before it exists); DEFAULT when unset or empty.
env_get() {
	local file=$ENV_FILE value

	[[ -f $file ]] || file=$SRC/.env.example
	value=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$file" | tail -n 1)
	value=${value%$'\r'}
	value=${value%\"}; value=${value#\"}; value=${value%\'}; value=${value#\'}
	printf '%s' "${value:-$2}"
}

install_env() {
	ensure_dir "$ENV_DIR" 0750 "$VCALL_GID"
	if [[ -e $ENV_FILE ]]; then
		say "keeping the existing $ENV_FILE (never overwritten)"
		[[ $(stat -c '%a' -- "$ENV_FILE") == 640 ]] || warn "$ENV_FILE has mode $(stat -c '%a' -- "$ENV_FILE"); 0640 root:vcall is expected"
	else
		# Closed by default: join tokens on, with a secret made here (never in the repository).
		local fresh secret
		fresh=$(mktemp)
		secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
		sed -e 's/^AUTH_MODE=.*/AUTH_MODE=jwt/' -e "s/^# AUTH_SECRET=.*/AUTH_SECRET=$secret/" -- "$SRC/.env.example" >"$fresh"
		say "AUTH_MODE=jwt with a new AUTH_SECRET in $ENV_FILE: mint join tokens with 'vcall token' or in the app backend (README)"
		install_file "$fresh" "$ENV_FILE" 0640 "$VCALL_GID" || true
		rm -f -- "$fresh"
	fi
	if [[ -z $(env_get MEDIASOUP_ANNOUNCED_IP '') && -z $(env_get MEDIASOUP_ANNOUNCED_DOMAIN '') ]]; then
		warn "MEDIASOUP_ANNOUNCED_IP is not set in $ENV_FILE: remote peers will not connect. Set it to this server's public IP (curl -4 ifconfig.me), then: systemctl restart vcall"
	fi
	# The unit's TimeoutStopSec (15 s) must outlast the graceful shutdown.
	local shutdown
	shutdown=$(env_get SHUTDOWN_TIMEOUT 8)
	if awk -v s="$shutdown" 'BEGIN { exit !(s + 2 > 15) }'; then
		warn "SHUTDOWN_TIMEOUT=$shutdown needs a longer stop timeout: systemctl edit vcall -> [Service] TimeoutStopSec=$(awk -v s="$shutdown" 'BEGIN { printf "%d", s + 7 }')"
	fi
}

install_unit() {
	if install_file "$SRC/systemd/vcall.service" "$UNIT_FILE" 0644 0; then
		UNIT_CHANGED=1
	fi
}

install_sysctl() {
	write_file "$SYSCTL_FILE" 0644 <<'EOF' || true
# vcall: written by scripts/deploy.sh (rewritten on redeploy; put local
# changes in a later file, e.g. 91-local.conf).

# BBR congestion control (with the fq qdisc it paces): better TCP throughput
# on long, lossy paths (Vietnam <-> Singapore) for signaling, ICE-TCP and TURN/TLS.
net.core.default_qdisc = fq
net.ipv4.tcp_congestion_control = bbr

# Notice dead signaling connections after about 1.5 min instead of 2 h.
net.ipv4.tcp_keepalive_time = 60
net.ipv4.tcp_keepalive_intvl = 10
net.ipv4.tcp_keepalive_probes = 3

# UDP socket buffers for RTP: absorb keyframe bursts to and from many peers
# without drops while a worker is busy. The default is 208 KiB.
net.core.rmem_max = 26214400
net.core.wmem_max = 26214400
net.core.rmem_default = 1048576
net.core.wmem_default = 1048576
net.ipv4.udp_rmem_min = 16384
net.ipv4.udp_wmem_min = 16384
EOF
	if [[ -n $ROOT ]]; then
		say "alternate root: not applying sysctl (applied at the target's next boot)"
	elif ! run sysctl --quiet --system; then
		warn "sysctl --system reported errors (in a container some keys are read-only; BBR needs the tcp_bbr module)"
	fi
}

# --- service ----------------------------------------------------------------------

start_service() {
	if [[ -n $ROOT ]]; then
		# Only the WantedBy symlink inside DIR; nothing reaches the host's systemd.
		if [[ -L $ROOT/etc/systemd/system/multi-user.target.wants/vcall.service ]]; then
			say "unchanged: vcall enabled in $ROOT"
		else
			run systemctl --root="$ROOT" --quiet enable vcall.service
			changed
		fi
		say "alternate root: not starting anything (it starts at the target's boot)"
		return
	fi
	if [[ ! -d /run/systemd/system ]]; then
		say "systemd is not PID 1 here: not enabling the unit (run: systemctl daemon-reload && systemctl enable --now vcall)"
		return
	fi
	((UNIT_CHANGED)) && run systemctl daemon-reload
	if systemctl is-active --quiet vcall; then
		systemctl is-enabled --quiet vcall || { run systemctl enable vcall; changed; }
		if ((APP_CHANGED || UNIT_CHANGED)); then
			((DRAIN)) && drain
			say "restarting vcall for the new release (calls still in progress are closed with roomClosed)"
			run systemctl restart vcall || die "vcall did not become ready: journalctl -u vcall -n 50"
		fi
	else
		# Returns once /health answers (ExecStartPost) or fails.
		run systemctl enable --now vcall || die "vcall did not become ready: journalctl -u vcall -n 50"
		changed
	fi
}

# SIGUSR2 to the main process: the server refuses new rooms and exits 0 once
# the last room has closed (Restart=on-failure leaves it stopped); the
# restart then starts the new release.
drain() {
	local pid limit waited=0

	pid=$(systemctl show --property=MainPID --value vcall)
	limit=$(awk -v d="$(env_get DRAIN_TIMEOUT 3600)" -v s="$(env_get SHUTDOWN_TIMEOUT 8)" 'BEGIN { printf "%d", d + s + 10 }')
	say "draining vcall (pid $pid): new rooms refused, waiting up to ${limit}s for the calls in progress to end"
	run kill -USR2 "$pid"
	((DRY_RUN)) && return 0
	while systemctl is-active --quiet vcall && ((waited < limit)); do
		sleep 5
		waited=$((waited + 5))
	done
}

# --- firewall ---------------------------------------------------------------------

# conf_get KEY DEFAULT: a coturn setting (key=value or key value).
conf_get() {
	local value=''

	[[ -f $TURN_CONF ]] && value=$(sed -n "s/^[[:space:]]*$1[[:space:]]*[=[:space:]][[:space:]]*//p" "$TURN_CONF" | tail -n 1)
	printf '%s' "${value:-$2}"
}

# "a:b" for ufw, "a-b" for cloud consoles; a single port when a == b.
range() { if [[ $1 == "$2" ]]; then printf '%s' "$1"; else printf '%s%s%s' "$1" "$3" "$2"; fi; }

# Sorted, deduplicated, separated by $1.
join() { local sep=$1; shift; printf '%s\n' "$@" | sort -un | paste -sd "$sep" | sed "s/$sep/$sep /g"; }

# TURN ports into turn_udp/turn_tcp: coturn's own config on this host wins;
# else the ports of TURN_URLS (turn: 3478 udp+tcp, turns: 5349 tcp by default).
turn_ports() {
	local urls url scheme port transport list

	if [[ -f $TURN_CONF ]]; then
		turn_udp=("$(conf_get listening-port 3478)")
		turn_tcp=("${turn_udp[0]}" "$(conf_get tls-listening-port 5349)")
		return
	fi
	urls=$(env_get TURN_URLS '')
	[[ -n $urls || -n $(env_get TURN_SECRET '') ]] || return 0
	[[ -n $urls ]] || urls='turn:host,turns:host'
	IFS=, read -ra list <<<"${urls// /}"
	for url in "${list[@]}"; do
		[[ $url =~ ^(turns?):(\[[^]]*\]|[^:?]*)(:([0-9]+))?(\?transport=(udp|tcp))? ]] || continue
		scheme=${BASH_REMATCH[1]} port=${BASH_REMATCH[4]} transport=${BASH_REMATCH[6]}
		if [[ $scheme == turns ]]; then
			turn_tcp+=("${port:-5349}")
		else
			if [[ $transport != tcp ]]; then turn_udp+=("${port:-3478}"); fi
			if [[ $transport != udp ]]; then turn_tcp+=("${port:-3478}"); fi
		fi
	done
}

print_firewall() {
	local file=$ENV_FILE min max relay_min relay_max p ops_host ops_port
	local tcp=() turn_udp=() turn_tcp=()

	[[ -f $file ]] || file=$SRC/.env.example
	# Defaults as in lib/config/options.ts.
	tcp=("$(env_get PORT 3000)")
	if [[ -n $(env_get SSL_CERT_PATH '') && -n $(env_get SSL_KEY_PATH '') ]]; then tcp+=("$(env_get HTTPS_PORT 3443)"); fi
	min=$(env_get MEDIASOUP_MIN_PORT 40000)
	max=$(env_get MEDIASOUP_MAX_PORT 49999)
	turn_ports
	relay_min=$(conf_get min-port 50000)
	relay_max=$(conf_get max-port 59999)
	ops_host=$(env_get OPS_HOST 127.0.0.1)
	ops_port=$(env_get OPS_PORT 3090)

	echo
	echo "Firewall: open these ports (from $file)."
	echo "  ufw (keep SSH open before enabling it):"
	echo "    ufw allow 22/tcp   # SSH, or your SSH port"
	for p in "${tcp[@]}"; do echo "    ufw allow $p/tcp comment 'vcall signaling'"; done
	echo "    ufw allow $(range "$min" "$max" :)/udp comment 'vcall media'"
	echo "    ufw allow $(range "$min" "$max" :)/tcp comment 'vcall media (ICE-TCP)'"
	if ((${#turn_udp[@]} + ${#turn_tcp[@]})); then
		for p in $(join ' ' "${turn_udp[@]}"); do echo "    ufw allow $p/udp comment 'turn'"; done
		for p in $(join ' ' "${turn_tcp[@]}"); do echo "    ufw allow $p/tcp comment 'turn'"; done
		echo "    ufw allow $(range "$relay_min" "$relay_max" :)/udp comment 'turn relay'"
	fi
	echo "    ufw enable"
	echo "  Cloud firewall (AWS security group inbound rules, DigitalOcean Cloud Firewall,"
	echo "  Vultr Firewall Group; Bizfly/Viettel IDC/CMC: their security group), source 0.0.0.0/0 and ::/0:"
	echo "    TCP $(join , "${tcp[@]}"), $(range "$min" "$max" -)"
	echo "    UDP $(range "$min" "$max" -)"
	if ((${#turn_udp[@]} + ${#turn_tcp[@]})); then
		[[ ${#turn_tcp[@]} -eq 0 ]] || echo "    TCP $(join , "${turn_tcp[@]}") (TURN)"
		echo "    UDP ${turn_udp[*]:+$(join , "${turn_udp[@]}"), }$(range "$relay_min" "$relay_max" -) (TURN)"
	fi
	echo "    Outbound: all"
	if [[ $ops_port != -1 ]]; then
		echo "  Ops listener (/metrics, POST /admin/drain) on $ops_host:$ops_port: open it to NOBODY."
		if [[ $ops_host != 127.0.0.1 && $ops_host != ::1 && $ops_host != localhost ]]; then
			echo "    It is not on loopback: ufw deny $ops_port/tcp comment 'vcall ops', and allow only your Prometheus:"
			echo "    ufw allow from <prometheus-ip> to any port $ops_port proto tcp comment 'vcall ops'"
		fi
		echo "    Read it on the box (curl -s localhost:$ops_port/metrics) or through an SSH tunnel."
	fi
}

# --- main ---------------------------------------------------------------------------

main() {
	((DRY_RUN)) && say "dry run: printing actions, changing nothing"
	preflight
	build
	ensure_user
	install_app
	check_worker
	install_env
	install_unit
	install_sysctl
	start_service
	print_firewall
	echo
	if ((DRY_RUN)); then
		say "dry run done: $CHANGES change(s) would be made (plus the app, if it differs)"
	else
		say "done: $CHANGES change(s)"
	fi
}

main
