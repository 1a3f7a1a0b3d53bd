// --user: unitd claims the name on the session bus, so the real `systemctl --user` reaches it with
// no tricks at all (no namespace, no -M), as long as no systemd private socket is in its way.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/clients.js';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';
import { REPO_ROOT, startUnitd, type UnitdProcess } from '../helpers/unitd-process.js';

let bus: PrivateBus;
let unitd: UnitdProcess;
// a user manager has its runtime directory (%t); systemctl itself runs without it (below)
const runtimeDir = mkdtempSync(join(tmpdir(), 'unitd-xdg-'));

beforeAll(async () => {
  bus = await startPrivateBus();
  unitd = await startUnitd(['--user', '--unit-path', `${REPO_ROOT}units`], { DBUS_SESSION_BUS_ADDRESS: bus.address, XDG_RUNTIME_DIR: runtimeDir });
});

afterAll(async () => {
  await unitd?.stop();
  await bus?.stop();
  rmSync(runtimeDir, { recursive: true, force: true });
});

// XDG_RUNTIME_DIR unset: systemctl --user then goes straight to the session bus
const userctl = (...args: string[]) =>
  run('env', ['-u', 'XDG_RUNTIME_DIR', 'systemctl', '--user', '--no-pager', ...args], {
    DBUS_SESSION_BUS_ADDRESS: bus.address,
    SYSTEMD_PAGER: 'cat',
    SYSTEMD_COLORS: '0',
    LC_ALL: 'C',
  });

describe('unitd --user with systemctl --user', () => {
  it('claims the name on $DBUS_SESSION_BUS_ADDRESS', () => {
    expect(unitd.busAddress).toBe(bus.address);
    expect(unitd.logs.find((l) => l.msg === 'ready')?.scope).toBe('user');
  });

  it('status, start, is-active, stop', async () => {
    const status = await userctl('status', 'ufw-demo.service');
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/Active: inactive \(dead\)/);
    const start = await userctl('start', 'ufw-demo.service');
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    expect((await userctl('is-active', 'ufw-demo.service')).stdout.trim()).toBe('active');
    expect(readFileSync(join(runtimeDir, 'ufw-demo.state'), 'utf8')).toBe('enabled\n');
    const stop = await userctl('stop', 'ufw-demo.service');
    expect(stop.code).toBe(0);
    expect((await userctl('is-active', 'ufw-demo.service')).stdout.trim()).toBe('inactive');
    expect(readFileSync(join(runtimeDir, 'ufw-demo.state'), 'utf8')).toBe('disabled\n');
  });
});
