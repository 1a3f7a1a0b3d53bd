#!/usr/bin/env bash
# Builds the unitd image (default localhost/unitd:dev) from this checkout: dist/ (run
# `npm run build` first), units/, package.json and only the production node_modules, on top of the
# base image made by scripts/setup-containers.sh. Prints the image name. Usage:
#   containers/build-image.sh [IMAGE]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${1:-${UNITD_IMAGE:-localhost/unitd:dev}}
BASE_IMAGE=localhost/unitd-base:bookworm

[ -f "$ROOT/dist/cli/main.js" ] || { echo "build-image.sh: no dist/ (run npm run build)" >&2; exit 1; }
podman image exists "$BASE_IMAGE" || { echo "build-image.sh: no $BASE_IMAGE (run scripts/setup-containers.sh)" >&2; exit 1; }

ctx=$(mktemp -d /var/tmp/unitd-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
app="$ctx/root/opt/unitd"
mkdir -p "$app" "$ctx/root/usr/local/sbin" "$ctx/root/usr/local/bin" "$ctx/root/etc/unitd/units"
cp "$ROOT/containers/Containerfile" "$ctx/"
install -m 0755 "$ROOT/containers/entrypoint.sh" "$ctx/root/usr/local/sbin/unitd-entrypoint"
ln -s /opt/unitd/dist/cli/main.js "$ctx/root/usr/local/bin/unitd"
# interfaces/ holds the introspection XML unitd serves
cp -a "$ROOT/dist" "$ROOT/interfaces" "$ROOT/units" "$ROOT/package.json" "$app/"
chmod 0755 "$app/dist/cli/main.js"
# production dependencies only, exactly as installed (offline: no registry). npm ls exits non-zero
# on harmless tree warnings; its list is still complete. Nested node_modules come with their parent.
deps=$(cd "$ROOT" && npm ls --omit=dev --all --parseable 2>/dev/null || true)
rels=$(printf '%s\n' "$deps" | sed -n "s|^$ROOT/||p" | grep -v '^node_modules/.*/node_modules/' || true)
[ -n "$rels" ] || { echo "build-image.sh: npm ls listed no dependencies (run npm ci)" >&2; exit 1; }
printf '%s\n' "$rels" | tar -C "$ROOT" -cf - -T - | tar -C "$app" -xf -
old=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
t_build=$(date +%s%N)
podman build -q --layers=false -t "$IMAGE" -f "$ctx/Containerfile" "$ctx" >/dev/null
new=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$old" ] && [ "$old" != "$new" ]; then podman rmi "$old" >/dev/null 2>&1 || true; fi
[ -n "${UNITD_BUILD_TIMING:-}" ] && echo "podman build: $(( ($(date +%s%N) - t_build) / 1000000 )) ms" >&2
echo "$IMAGE"
