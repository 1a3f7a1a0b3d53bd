// Kill and stop on a frozen unit (cgroup v2 freezer): KillUnit does not thaw — a non-fatal signal
// stays pending until Thaw, and the unit stays frozen (the scheduler never thaws a group that was
// frozen before it came); stop thaws first and then runs the normal pipeline. Runs on unitd and,
// where its user manager can freeze here, on systemd 252.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oracleAvailable, oracleUnavailableReason, startOracle } from '../oracle/oracle.js';
import { closeLab, openLab, type Lab } from '../helpers/lab.js';
import { PYTHON, SIGREC, killRecorded, oracleTarget, readRecords, signalSets, waitForStarts, writeUnits, type Target } from '../helpers/signal-lab.js';

const DEST = 'org.freedesktop.systemd1';
const UNIT_PATH = '/org/freedesktop/systemd1/unit/kf_2dsvc_2eservice';
const UNITS: Record<string, (dir: string) => string> = {
  'kf-svc.service': (dir) => `[Service]\nExecStart=${PYTHON} ${SIGREC} --log ${dir}/kf-svc.service.log --name main --children 1\nTimeoutStopSec=2s\n`,
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function scenario(t: Target): Promise<Record<string, unknown>> {
  const u = 'kf-svc.service';
  const log = join(t.dir, `${u}.log`);
  const since = Date.now() / 1000;
  expect((await t.systemctl(['start', u])).code).toBe(0);
  await waitForStarts(log, ['main', 'main.child1'], since);
  const freeze = await t.busctl(['call', DEST, UNIT_PATH, 'org.freedesktop.systemd1.Unit', 'Freeze']);
  if (freeze.code !== 0) return { freeze: freeze.stderr.trim() };
  const frozen1 = await t.prop(u, 'FreezerState');
  const kill = await t.systemctl(['kill', '-s', 'HUP', u]);
  await sleep(300);
  const whileFrozen = signalSets(readRecords(log));
  const frozen2 = await t.prop(u, 'FreezerState');
  const thaw = await t.busctl(['call', DEST, UNIT_PATH, 'org.freedesktop.systemd1.Unit', 'Thaw']);
  await sleep(300);
  const afterThaw = signalSets(readRecords(log));
  const state1 = await t.prop(u, 'ActiveState');
  await t.busctl(['call', DEST, UNIT_PATH, 'org.freedesktop.systemd1.Unit', 'Freeze']);
  const stop = await t.systemctl(['stop', u]);
  await sleep(200);
  return {
    frozen1,
    kill: kill.code,
    whileFrozen,
    frozen2,
    thaw: thaw.code,
    afterThaw,
    state1,
    stop: stop.code,
    afterStop: signalSets(readRecords(log)),
    final: `${await t.prop(u, 'ActiveState')}/${await t.prop(u, 'Result')}`,
  };
}

let lab: Lab;

beforeAll(async () => {
  lab = await openLab('unitd-kill-frozen-', UNITS);
});

afterAll(() => closeLab(lab));

describe('kill and stop on a frozen unit', () => {
  it('kill leaves the signal pending and the unit frozen; stop thaws and stops', { timeout: 60_000 }, async () => {
    const mine = await scenario(lab.target);
    expect(mine).toEqual({
      frozen1: 'frozen',
      kill: 0,
      whileFrozen: { main: [], 'main.child1': [] },
      frozen2: 'frozen',
      thaw: 0,
      afterThaw: { main: ['HUP'], 'main.child1': ['HUP'] },
      state1: 'active',
      stop: 0,
      afterStop: { main: ['CONT', 'HUP', 'TERM'], 'main.child1': ['CONT', 'HUP', 'TERM'] },
      final: 'inactive/success',
    });
    if (!oracleAvailable()) {
      console.warn(`oracle half skipped: ${oracleUnavailableReason()}`);
      return;
    }
    const dir = join(lab.root, 'oracle');
    writeUnits(dir, UNITS);
    const oracle = await startOracle({ unitDirs: [dir] });
    try {
      const theirs = await scenario(oracleTarget(oracle, dir));
      console.log('systemd 252:', JSON.stringify(theirs));
      if ('freeze' in theirs) {
        console.warn(`systemd 252's user manager cannot freeze here (${String(theirs.freeze)}): oracle comparison skipped`);
        return;
      }
      expect(mine).toEqual(theirs);
    } finally {
      killRecorded(join(dir, 'kf-svc.service.log'));
      await oracle.stop();
    }
  });
});
