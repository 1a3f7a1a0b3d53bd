// The embedded default (what `npm start` runs): no bus answers, so unitd starts its own
// dbus-daemon, claims the name there, prints how to reach it, and takes the daemon down on exit.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { busctl } from '../helpers/clients.js';
import { eventually } from '../helpers/bus-client.js';
import { REPO_ROOT, startUnitd } from '../helpers/unitd-process.js';

const runtimeDir = mkdtempSync(join(tmpdir(), 'unitd-embedded-'));
afterAll(() => rmSync(runtimeDir, { recursive: true, force: true }));

describe('embedded bus', () => {
  it('starts its own dbus-daemon, prints the export line, serves on it, and cleans up on SIGTERM', async () => {
    const unitd = await startUnitd(['--unit-path', `${REPO_ROOT}units`, '--runtime-dir', runtimeDir], {
      DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${runtimeDir}/no-such-socket`,
    });
    // stopped even when an expectation fails (stop() is a no-op once it has exited)
    onTestFinished(async () => {
      await unitd.stop();
    });
    const socket = join(runtimeDir, 'bus', 'system_bus_socket');
    expect(unitd.busAddress).toBe(`unix:path=${socket}`);
    expect(unitd.logs.find((l) => l.msg === 'ready')?.embedded).toBe(true);
    const line = await eventually(() => unitd.stderr.find((l) => l.includes('export DBUS_SYSTEM_BUS_ADDRESS=')), 5000, 'export line');
    expect(line.trim()).toBe(`export DBUS_SYSTEM_BUS_ADDRESS=unix:path=${socket}`);
    const r = await busctl(unitd.busAddress, ['get-property', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'SystemState']);
    expect(r.stdout.trim()).toBe('s "running"');
    expect(existsSync(socket)).toBe(true);
    expect(await unitd.stop('SIGTERM')).toBe(0);
    expect(existsSync(socket)).toBe(false);
    const after = await busctl(`unix:path=${socket}`, ['call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetId']);
    expect(after.code).not.toBe(0);
  });

  it('uses a bus that answers instead of starting one', async () => {
    const { startPrivateBus } = await import('../helpers/private-bus.js');
    const bus = await startPrivateBus();
    try {
      const unitd = await startUnitd(['--unit-path', `${REPO_ROOT}units`, '--runtime-dir', runtimeDir], { DBUS_SYSTEM_BUS_ADDRESS: bus.address });
      onTestFinished(async () => {
        await unitd.stop();
      });
      expect(unitd.busAddress).toBe(bus.address);
      expect(unitd.logs.find((l) => l.msg === 'ready')?.embedded).toBe(false);
      expect(await unitd.stop('SIGINT')).toBe(0);
    } finally {
      await bus.stop();
    }
  });
});
