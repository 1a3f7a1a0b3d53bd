// unitd keeps the bus objects of recently used units (src/bus/systemd-bus.ts), each for the
// configuration it was built from: after daemon-reload a unit answers from its new configuration
// even when its object was used just before.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type BusClient } from '../helpers/bus-client.js';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';
import { startUnitd, type UnitdProcess } from '../helpers/unitd-process.js';

const M = '/org/freedesktop/systemd1';
const MI = 'org.freedesktop.systemd1.Manager';
const PROPS = 'org.freedesktop.DBus.Properties';

let bus: PrivateBus;
let unitd: UnitdProcess;
let client: BusClient;
const dir = mkdtempSync(join(tmpdir(), 'unitd-unit-objects-'));

beforeAll(async () => {
  bus = await startPrivateBus();
  unitd = await startUnitd(['--bus-address', bus.address, '--unit-path', dir]);
  client = await connectClient(bus.address);
});

afterAll(async () => {
  client?.close();
  await unitd?.stop();
  await bus?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('unit objects across daemon-reload', () => {
  it('a not-found unit whose file appears answers with the file\'s settings after the reload', async () => {
    const [path] = (await client.call(M, MI, 'LoadUnit', 's', ['appears.service'])) as [string];
    await client.call(path, 'org.freedesktop.systemd1.Unit', 'Ref');
    const get = async (iface: string, prop: string): Promise<unknown> => ((await client.call(path, PROPS, 'Get', 'ss', [iface, prop]))[0] as { value: unknown }).value;
    expect(await get('org.freedesktop.systemd1.Unit', 'LoadState')).toBe('not-found');
    expect(await get('org.freedesktop.systemd1.Service', 'Type')).toBe('');
    writeFileSync(join(dir, 'appears.service'), '[Service]\nType=oneshot\nExecStart=/bin/true\n');
    await client.call(M, MI, 'Reload');
    expect(await get('org.freedesktop.systemd1.Unit', 'LoadState')).toBe('loaded');
    expect(await get('org.freedesktop.systemd1.Service', 'Type')).toBe('oneshot');
    await client.call(path, 'org.freedesktop.systemd1.Unit', 'Unref');
  });
});
