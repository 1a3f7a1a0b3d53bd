#!/bin/sh
# The container's init: start the system dbus-daemon, then become unitd (PID 1 stays this
# process, so unitd is PID 1: it reaps orphans and stops every unit on the stop signal).
# Extra arguments go to unitd, e.g. `podman run IMAGE --log-level debug`.
set -e
mkdir -p /run/dbus
rm -f /run/dbus/pid /run/dbus/system_bus_socket /run/systemd/private
dbus-daemon --system --fork
exec node /opt/unitd/dist/cli/main.js --system-manager \
  --unit-path /etc/unitd/units --unit-path /opt/unitd/units "$@"
