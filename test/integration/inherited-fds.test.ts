// A descriptor unitd inherited reaches none of its services (systemd passes a service its standard
// streams and the descriptors it means to pass, nothing else). unitd is started with /dev/null open
// on fd 50, not close-on-exec; a service's main process must not have it.
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';
import { startUnitd, type UnitdProcess } from '../helpers/unitd-process.js';
import { writeUnits } from '../helpers/signal-lab.js';
import { systemctl } from '../helpers/clients.js';

const FD = 50;
let root: string;
let bus: PrivateBus;
let unitd: UnitdProcess;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'unitd-fds-'));
  writeUnits(join(root, 'units'), { 'fd-svc.service': () => '[Service]\nExecStart=/bin/sleep 1000\n' });
  bus = await startPrivateBus();
  unitd = await startUnitd(['--bus-address', bus.address, '--unit-path', join(root, 'units')], {}, { inheritedFd: FD });
});

afterAll(async () => {
  if (unitd) {
    await systemctl(bus.address, ['stop', 'fd-svc.service']).catch(() => undefined);
    await unitd.stop();
  }
  await bus?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('descriptors unitd inherited', () => {
  it('unitd keeps fd 50 open, its service does not get it', async () => {
    expect(readlinkSync(`/proc/${unitd.pid}/fd/${FD}`)).toBe('/dev/null');
    expect((await systemctl(bus.address, ['start', 'fd-svc.service'])).code).toBe(0);
    const show = await systemctl(bus.address, ['show', '-p', 'MainPID', '--value', 'fd-svc.service']);
    const pid = Number(show.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    const fds = readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);
    expect(fds).toEqual([0, 1, 2]);
    expect(unitd.logs.some((l) => l.msg.includes('close-on-exec') && (l.fds as number[]).includes(FD))).toBe(true);
  });
});
