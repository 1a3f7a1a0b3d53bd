#!/usr/bin/env bash
# Prepares this machine for the container suite (test/containers/): podman + runc, a
# containers.conf that works on these VMs, and the base image localhost/unitd-base:bookworm,
# built locally from debootstrap (no registry is ever contacted). Idempotent and fast when
# everything is already there: each step checks first and does nothing if its result exists.
# The recipe and its reasons: ../shared/notes/containers.md.
#
#   scripts/setup-containers.sh           # install what is missing
#   scripts/setup-containers.sh --rebuild # also rebuild the base image
#
# Needs root (apt-get, podman as root). The unitd image itself (dist/ + units/ on top of the base)
# is built by containers/build-image.sh, which the container suite runs on every run.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

BASE_IMAGE=${UNITD_BASE_IMAGE:-localhost/unitd-base:bookworm}
WORK=${UNITD_CONTAINERS_WORK:-/var/tmp/unitd-containers}
# packages inside the base image: dbus (system bus), systemd (busctl, systemctl 252),
# libglib2.0-bin (gdbus), procps (ps), util-linux (setsid, part of minbase anyway)
BASE_PACKAGES=dbus,systemd,libglib2.0-bin,procps
REBUILD=0
[ "${1:-}" = "--rebuild" ] && REBUILD=1

log() { printf '[setup-containers] %s\n' "$*"; }
start=$(date +%s%N)

if [ "$(id -u)" != 0 ]; then
  echo "setup-containers.sh must run as root (apt-get and rootful podman)" >&2
  exit 1
fi

# 1. packages. runc, NOT Debian's default crun: crun 1.8 refuses this VM's hybrid cgroup layout.
need=()
for pkg in podman runc debootstrap; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. containers.conf. No CAP_SYS_RESOURCE here: podman's default root ulimits (nofile=1048576)
# make setrlimit fail, so cap them at this machine's hard limits.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
conf=$(cat <<CONF
# written by unitd's scripts/setup-containers.sh
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
)
mkdir -p /etc/containers
if [ ! -f /etc/containers/containers.conf ] || [ "$(cat /etc/containers/containers.conf)" != "$conf" ]; then
  if [ -f /etc/containers/containers.conf ] && ! grep -q "setup-containers.sh" /etc/containers/containers.conf; then
    cp /etc/containers/containers.conf "/etc/containers/containers.conf.bak.$(date +%s)"
    log "kept the previous containers.conf as a .bak file"
  fi
  printf '%s\n' "$conf" >/etc/containers/containers.conf
  log "wrote /etc/containers/containers.conf"
fi

# 3. base image: Debian minbase + the packages above + this host's node. Labelled with what it was
# built from; rebuilt when that changes (another node, another package list).
node_bin=$(command -v node)
stamp="node=$("$node_bin" --version) packages=${BASE_PACKAGES}"
have=$(podman image inspect --format '{{ index .Config.Labels "unitd.base" }}' "$BASE_IMAGE" 2>/dev/null || true)
if [ "$REBUILD" = 1 ] || [ "$have" != "$stamp" ]; then
  log "building $BASE_IMAGE ($stamp)"
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  mkdir -p "$WORK"
  if ! debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
    tail -20 "$WORK/debootstrap.log" >&2
    exit 1
  fi
  install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs/etc/apt/sources.list"
  tar -C "$rootfs" -c . | podman import -q \
    --change "LABEL unitd.base=$stamp" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
else
  log "$BASE_IMAGE is up to date"
fi

ms=$(( ($(date +%s%N) - start) / 1000000 ))
log "done in $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s"
