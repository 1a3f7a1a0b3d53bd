// daemon-reload keeps run-time state and re-reads files (Reloading(true)/(false) around it), and
// subscribed clients get PropertiesChanged as the XML's flags say: the Service interface first,
// then Unit, values for "emits" properties.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, eventually, type BusClient } from '../helpers/bus-client.js';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';
import { startUnitd, type UnitdProcess } from '../helpers/unitd-process.js';

const M = '/org/freedesktop/systemd1';
const MI = 'org.freedesktop.systemd1.Manager';
const PROPS = 'org.freedesktop.DBus.Properties';
const UNIT = '/org/freedesktop/systemd1/unit/reload_2ddemo_2eservice';

let bus: PrivateBus;
let unitd: UnitdProcess;
let client: BusClient;
let dir: string;

function writeUnit(description: string): void {
  const file = join(dir, 'reload-demo.service');
  writeFileSync(file, `[Unit]\nDescription=${description}\n[Service]\nExecStart=/bin/sleep 1000\n[Install]\nWantedBy=multi-user.target\n`);
  // make sure the modification time moves even within one clock tick
  const t = new Date(Date.now() + Math.floor(Math.random() * 100000));
  utimesSync(file, t, t);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'unitd-reload-'));
  writeUnit('first');
  mkdirSync(join(dir, 'multi-user.target.wants'));
  symlinkSync(join(dir, 'reload-demo.service'), join(dir, 'multi-user.target.wants', 'reload-demo.service'));
  bus = await startPrivateBus();
  unitd = await startUnitd(['--bus-address', bus.address, '--unit-path', dir]);
  client = await connectClient(bus.address);
  await client.addMatch("type='signal',sender='org.freedesktop.systemd1'");
  await client.call(M, MI, 'Subscribe');
});

afterAll(async () => {
  client?.close();
  await unitd?.stop();
  await bus?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (iface: string, prop: string): Promise<unknown> => {
  const [v] = await client.call(UNIT, PROPS, 'Get', 'ss', [iface, prop]);
  return (v as { value: unknown }).value;
};

describe('PropertiesChanged for a subscribed client', () => {
  it('announces a start: Service interface first, then Unit, with values', async () => {
    client.signals.length = 0;
    const [job] = await client.call(M, MI, 'StartUnit', 'ss', ['reload-demo.service', 'replace']);
    await eventually(() => client.signals.find((s) => s.member === 'JobRemoved' && s.body[1] === job), 10_000, 'JobRemoved');
    const changes = client.signals.filter((s) => s.member === 'PropertiesChanged' && s.path === UNIT);
    const unitChanges = changes.filter((s) => s.body[0] === 'org.freedesktop.systemd1.Unit').map((s) => s.body[1] as Record<string, { value: unknown }>);
    const serviceChanges = changes.filter((s) => s.body[0] === 'org.freedesktop.systemd1.Service').map((s) => s.body[1] as Record<string, { signature: string; value: unknown }>);
    // the start changes MainPID and ActiveState in one step: the Service signal goes first
    const activeAt = changes.findIndex((s) => s.body[0] === 'org.freedesktop.systemd1.Unit' && (s.body[1] as Record<string, { value: unknown }>).ActiveState?.value === 'active');
    const mainAt = changes.findIndex((s) => s.body[0] === 'org.freedesktop.systemd1.Service' && ((s.body[1] as Record<string, { value: unknown }>).MainPID?.value ?? 0) !== 0);
    expect(activeAt).toBeGreaterThan(0);
    expect(mainAt).toBeGreaterThanOrEqual(0);
    expect(mainAt).toBe(activeAt - 1);
    const mainPid = serviceChanges.map((c) => c.MainPID).find((v) => v && v.value !== 0);
    expect(mainPid?.signature).toBe('u');
    expect(unitChanges.some((c) => c.InvocationID !== undefined)).toBe(true);
    // const properties are never announced
    for (const c of [...unitChanges, ...serviceChanges]) {
      expect(c).not.toHaveProperty('Id');
      expect(c).not.toHaveProperty('KillMode');
    }
    // JobNew went out before JobRemoved, and after the reply (we have the path from the reply)
    const order = client.signals.filter((s) => s.path === M && (s.member === 'JobNew' || s.member === 'JobRemoved') && s.body[1] === job).map((s) => s.member);
    expect(order).toEqual(['JobNew', 'JobRemoved']);
  });
});

describe('daemon-reload', () => {
  it('reports NeedDaemonReload when the file changed, re-reads it, keeps run-time state', async () => {
    const mainBefore = await get('org.freedesktop.systemd1.Service', 'MainPID');
    expect(mainBefore).toBeGreaterThan(0);
    expect(await get('org.freedesktop.systemd1.Unit', 'NeedDaemonReload')).toBe(false);
    writeUnit('second');
    expect(await get('org.freedesktop.systemd1.Unit', 'NeedDaemonReload')).toBe(true);
    client.signals.length = 0;
    await client.call(M, MI, 'Reload');
    const reloading = client.signals.filter((s) => s.member === 'Reloading').map((s) => s.body[0]);
    expect(reloading).toEqual([true, false]);
    expect(await get('org.freedesktop.systemd1.Unit', 'Description')).toBe('second');
    expect(await get('org.freedesktop.systemd1.Unit', 'NeedDaemonReload')).toBe(false);
    expect(await get('org.freedesktop.systemd1.Unit', 'ActiveState')).toBe('active');
    expect(await get('org.freedesktop.systemd1.Service', 'MainPID')).toBe(mainBefore);
  });

  it('a referenced not-found unit whose file appears is loaded at the reload, the same object answering with the new settings (also where unitd kept the bus object from before)', async () => {
    const [path] = await client.call(M, MI, 'LoadUnit', 's', ['reload-late.service']);
    const late = path as string;
    // referenced, so the same unit lives on through the reload instead of being collected
    await client.call(late, 'org.freedesktop.systemd1.Unit', 'Ref');
    const state = async (iface: string, prop: string): Promise<unknown> => ((await client.call(late, PROPS, 'Get', 'ss', [iface, prop]))[0] as { value: unknown }).value;
    expect(await state('org.freedesktop.systemd1.Unit', 'LoadState')).toBe('not-found');
    expect(await state('org.freedesktop.systemd1.Service', 'Type')).toBe('');
    writeFileSync(join(dir, 'reload-late.service'), '[Service]\nType=oneshot\nExecStart=/bin/true\n');
    await client.call(M, MI, 'Reload');
    expect(await state('org.freedesktop.systemd1.Unit', 'LoadState')).toBe('loaded');
    expect(await state('org.freedesktop.systemd1.Service', 'Type')).toBe('oneshot');
    await client.call(late, 'org.freedesktop.systemd1.Unit', 'Unref');
  });

  it('stops the unit cleanly afterwards', async () => {
    const [job] = await client.call(M, MI, 'StopUnit', 'ss', ['reload-demo.service', 'replace']);
    const removed = await eventually(() => client.signals.find((s) => s.member === 'JobRemoved' && s.body[1] === job), 20_000, 'JobRemoved');
    expect(removed.body[3]).toBe('done');
    expect(await get('org.freedesktop.systemd1.Unit', 'ActiveState')).toBe('inactive');
  });
});
