// unitd writes its log in batches (src/log.ts), but never after the D-Bus signal about the same
// change, nor after a state change becomes readable: a client that has just received JobRemoved,
// or read the new state, finds the lines in the log. Lines of a KillUnit (which changes no
// state) still arrive, shortly after.
import dbus from 'dbus-next';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, eventually, type BusClient } from '../helpers/bus-client.js';
import { closeLab, openLab, type Lab } from '../helpers/lab.js';

const M = '/org/freedesktop/systemd1';
const MI = 'org.freedesktop.systemd1.Manager';
const UNIT = 'log-order.service';

let lab: Lab;
let client: BusClient;

beforeAll(async () => {
  lab = await openLab('unitd-log-order-', { [UNIT]: () => '[Service]\nExecStart=/bin/sleep 1000\n' });
  client = await connectClient(lab.bus.address);
  await client.call(M, MI, 'Subscribe');
  await client.addMatch("type='signal',interface='org.freedesktop.systemd1.Manager',member='JobRemoved'");
});

afterAll(async () => {
  client?.close();
  await closeLab(lab); // unitd stops the unit's process on its way out
});

/** runs a job method and resolves in the same poll phase as the JobRemoved that ends it, plus one setImmediate */
async function jobAndItsEnd(method: string): Promise<number> {
  let jobPath = '';
  const removed = new Promise<void>((resolve) => {
    const onMessage = (m: InstanceType<typeof dbus.Message>): void => {
      if (m.member === 'JobRemoved' && m.body[1] === jobPath) {
        client.bus.off('message', onMessage);
        resolve();
      }
    };
    client.bus.on('message', onMessage);
  });
  [jobPath] = (await client.call(M, MI, method, 'ss', [UNIT, 'replace'])) as [string];
  await removed;
  // unitd wrote the log before the signal: its pipe was readable when the signal's socket was, so
  // the line is read in this poll phase at the latest
  await new Promise((r) => setImmediate(r));
  return Number(jobPath.slice(jobPath.lastIndexOf('/') + 1));
}

describe('log lines and D-Bus signals', () => {
  it('a client that saw JobRemoved finds the job and its state changes in the log', async () => {
    for (const [method, subState] of [
      ['StartUnit', 'running'],
      ['StopUnit', 'dead'],
      ['StartUnit', 'running'],
    ] as const) {
      const job = await jobAndItsEnd(method);
      expect(lab.unitd.logs.some((l) => l.msg === 'job finished' && l.job === job)).toBe(true);
      expect(lab.unitd.logs.some((l) => l.msg === 'unit state changed' && l.unit === UNIT && l.subState === subState)).toBe(true);
    }
  });

  it('a client that is told nothing and reads the new state finds the state change in the log', async () => {
    // no subscriber and no job: the main process is killed, the unit goes dead on its own, and no
    // signal goes out about it
    await client.call(M, MI, 'Unsubscribe');
    const [path] = (await client.call(M, MI, 'GetUnit', 's', [UNIT])) as [string];
    const activeState = async (): Promise<unknown> =>
      ((await client.call(path, 'org.freedesktop.DBus.Properties', 'Get', 'ss', ['org.freedesktop.systemd1.Unit', 'ActiveState']))[0] as { value: unknown }).value;
    expect(await activeState()).toBe('active');
    const before = lab.unitd.logs.length;
    await client.call(M, MI, 'KillUnit', 'ssi', [UNIT, 'main', 15]);
    const deadline = Date.now() + 5000;
    while ((await activeState()) === 'active' && Date.now() < deadline);
    await new Promise((r) => setImmediate(r));
    expect(lab.unitd.logs.slice(before).some((l) => l.msg === 'unit state changed' && l.unit === UNIT && l.activeState !== 'active')).toBe(true);
    await client.call(M, MI, 'Subscribe');
    await jobAndItsEnd('StartUnit');
  });

  it('the lines of a KillUnit, which sends no signal, arrive too', async () => {
    const before = lab.unitd.logs.filter((l) => l.msg === 'signal sent on client request').length;
    for (let i = 0; i < 5; i++) await client.call(M, MI, 'KillUnit', 'ssi', [UNIT, 'main', 18]);
    await eventually(() => lab.unitd.logs.filter((l) => l.msg === 'signal sent on client request').length === before + 5, 2000, 'five kill lines');
  });
});
