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
mkdir -p "$ctx/app"
cp "$ROOT/containers/Containerfile" "$ROOT/containers/entrypoint.sh" "$ctx/"
cp -a "$ROOT/dist" "$ROOT/units" "$ROOT/package.json" "$ctx/app/"
# interfaces/ holds the introspection XML unitd serves
[ -d "$ROOT/interfaces" ] && cp -a "$ROOT/interfaces" "$ctx/app/"
# production dependencies only, exactly as installed (offline: no registry)
(cd "$ROOT" && npm ls --omit=dev --all --parseable 2>/dev/null) | while read -r dir; do
  rel=${dir#"$ROOT"/}
  [ "$rel" = "$dir" ] && continue # the project itself
  mkdir -p "$ctx/app/$(dirname "$rel")"
  [ -e "$ctx/app/$rel" ] || cp -a "$dir" "$ctx/app/$rel"
done
old=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
podman build -q --layers=false -t "$IMAGE" -f "$ctx/Containerfile" "$ctx" >/dev/null
new=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$old" ] && [ "$old" != "$new" ]; then podman rmi "$old" >/dev/null 2>&1 || true; fi
echo "$IMAGE"
