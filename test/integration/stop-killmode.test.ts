// The stop pipeline per KillMode × SendSIGHUP × SendSIGKILL (+ FinalKillSignal=SIGQUIT): every
// process of the unit records the signals it gets (main dies on SIGTERM; a child and an escaped,
// setsid'd, double-forked grandchild ignore SIGTERM). The same units run under real systemd 252
// (the oracle) and under unitd; who got what, who survived, the SubState sequence and the final
// ActiveState/Result must be the same.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oracleAvailable, oracleUnavailableReason, startOracle, type Oracle } from '../oracle/oracle.js';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';
import { startUnitd, type UnitdProcess } from '../helpers/unitd-process.js';
import {
  PYTHON,
  SIGREC,
  isAlive,
  killRecorded,
  oracleTarget,
  readRecords,
  signalSets,
  unitdTarget,
  waitForStarts,
  writeUnits,
  type Target,
} from '../helpers/signal-lab.js';

interface Case {
  unit: string;
  killMode: 'control-group' | 'mixed' | 'process' | 'none';
  hup: boolean;
  sigkill: boolean;
  finalKillSignal?: string;
  /** more recorder options */
  recorder?: string;
}

const CASES: Case[] = [];
for (const killMode of ['control-group', 'mixed', 'process', 'none'] as const) {
  for (const hup of [false, true]) {
    for (const sigkill of [true, false]) {
      CASES.push({ unit: `km-${killMode}-hup${hup ? 1 : 0}-kill${sigkill ? 1 : 0}.service`, killMode, hup, sigkill });
    }
  }
}
CASES.push({ unit: 'km-control-group-quit.service', killMode: 'control-group', hup: false, sigkill: true, finalKillSignal: 'SIGQUIT' });
CASES.push({ unit: 'km-mixed-quit.service', killMode: 'mixed', hup: false, sigkill: true, finalKillSignal: 'SIGQUIT' });
// the child ignores FinalKillSignal too: the manager gives up after the final-sigkill timeout
CASES.push({ unit: 'km-quit-ignored.service', killMode: 'control-group', hup: false, sigkill: true, finalKillSignal: 'SIGQUIT', recorder: '--child-ignore QUIT' });

const PROCS = ['main', 'main.child1', 'main.escaped'];

function unitText(c: Case): (dir: string) => string {
  return (dir) =>
    [
      '[Unit]',
      `Description=stop matrix ${c.unit}`,
      '[Service]',
      `ExecStart=${PYTHON} ${SIGREC} --log ${dir}/${c.unit}.log --name main --children 1 --child-ignore-term --escape --escape-ignore-term${c.recorder ? ` ${c.recorder}` : ''}`,
      `KillMode=${c.killMode}`,
      `SendSIGHUP=${c.hup ? 'yes' : 'no'}`,
      `SendSIGKILL=${c.sigkill ? 'yes' : 'no'}`,
      ...(c.finalKillSignal ? [`FinalKillSignal=${c.finalKillSignal}`] : []),
      'TimeoutStopSec=1s',
      '',
    ].join('\n');
}

interface Outcome {
  /** process → signals received */
  got: Record<string, string[]>;
  /** processes still alive after the stop job */
  survivors: string[];
  subStates: string[];
  activeState: string;
  result: string;
}

async function runMatrix(t: Target): Promise<{ outcomes: Record<string, Outcome>; stopMs: number; leftovers: number[] }> {
  writeUnits(t.dir, Object.fromEntries(CASES.map((c) => [c.unit, unitText(c)])));
  if (t.kind === 'oracle') await t.systemctl(['daemon-reload']);
  const units = CASES.map((c) => c.unit);
  const start = await t.systemctl(['start', ...units]);
  expect(start.code, `${t.kind} start: ${start.stderr}`).toBe(0);
  const pids: Record<string, Record<string, number>> = {};
  for (const u of units) pids[u] = await waitForStarts(join(t.dir, `${u}.log`), PROCS);
  const mark = t.mark();
  const t0 = Date.now();
  const stop = await t.systemctl(['stop', ...units]);
  const stopMs = Date.now() - t0;
  expect(stop.code, `${t.kind} stop: ${stop.stderr}`).toBe(0);
  // let late signal records land
  await new Promise((r) => setTimeout(r, 300));
  const outcomes: Record<string, Outcome> = {};
  const leftovers: number[] = [];
  for (const u of units) {
    const recs = readRecords(join(t.dir, `${u}.log`));
    const survivors = PROCS.filter((p) => isAlive(pids[u]![p]!));
    leftovers.push(...survivors.map((p) => pids[u]![p]!));
    outcomes[u] = {
      got: signalSets(recs),
      survivors,
      subStates: t.subStates(u, mark),
      activeState: await t.prop(u, 'ActiveState'),
      result: await t.prop(u, 'Result'),
    };
  }
  return { outcomes, stopMs, leftovers };
}

type Matrix = Awaited<ReturnType<typeof runMatrix>>;

let bus: PrivateBus;
let root: string;
const results: Record<string, Matrix> = {};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'unitd-stop-km-'));
  bus = await startPrivateBus();
});

afterAll(async () => {
  await bus?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** runs the matrix on a fresh unitd with the given process tracker and checks spec 8.4 on it */
async function unitdMatrix(tracker: 'cgroup2' | 'proc'): Promise<Matrix> {
  const dir = join(root, `unitd-${tracker}`);
  writeUnits(dir, Object.fromEntries(CASES.map((c) => [c.unit, unitText(c)])));
  const unitd: UnitdProcess = await startUnitd(['--bus-address', bus.address, '--unit-path', dir, '--log-level', 'debug', '--tracker', tracker]);
  let mine: Matrix;
  try {
    mine = await runMatrix(unitdTarget(unitd, bus.address, dir));
  } finally {
    // survivors of KillMode=process/none are ended by PID
    for (const c of CASES) killRecorded(join(dir, `${c.unit}.log`));
    if (process.env.UNITD_TEST_DUMP) writeFileSync(`${process.env.UNITD_TEST_DUMP}.${tracker}`, unitd.logs.map((l) => JSON.stringify(l)).join('\n'));
    await unitd.stop();
  }
  console.log(`unitd (${tracker} tracker): stop of ${CASES.length} units took ${mine.stopMs} ms`);

  // spec 8.4, independent of the oracle
  const o = mine.outcomes;
  expect(o['km-none-hup0-kill1.service']!.got).toEqual({ main: [], 'main.child1': [], 'main.escaped': [] });
  expect(o['km-process-hup1-kill1.service']!.got['main.child1']).toEqual([]);
  expect(o['km-process-hup1-kill1.service']!.got.main).toEqual(['CONT', 'HUP', 'TERM']);
  expect(o['km-control-group-hup0-kill1.service']!.got['main.escaped']).toEqual(['CONT', 'TERM']);
  expect(o['km-control-group-hup0-kill1.service']!.survivors).toEqual([]);
  expect(o['km-mixed-hup0-kill1.service']!.got['main.escaped']).toEqual([]);
  expect(o['km-mixed-hup0-kill1.service']!.survivors).toEqual([]);
  expect(o['km-control-group-quit.service']!.got['main.escaped']).toContain('QUIT');

  // what unitd says it sent covers what arrived
  for (const c of CASES) {
    const sent = new Set(unitd.logs.filter((l) => l.msg === 'signal sent' && l.unit === c.unit).map((l) => String(l.signal).replace(/^SIG/, '')));
    for (const [proc, sigs] of Object.entries(o[c.unit]!.got)) {
      for (const s of sigs) if (s !== 'CONT' && s !== 'HUP') expect(sent.has(s), `${c.unit} ${proc} got ${s}, not logged as sent`).toBe(true);
    }
  }
  return mine;
}

describe('stop: KillMode × SendSIGHUP × SendSIGKILL × FinalKillSignal', () => {
  it('unitd with the cgroup2 tracker (freezer, cgroup.kill)', { timeout: 120_000 }, async () => {
    results.cgroup2 = await unitdMatrix('cgroup2');
  });

  it('unitd with the /proc tracker (no freezer: walks until a pass finds nobody new)', { timeout: 120_000 }, async () => {
    results.proc = await unitdMatrix('proc');
  });

  it('systemd 252 delivers the same, with the same SubStates and results', { timeout: 180_000 }, async (ctx) => {
    if (!oracleAvailable()) {
      ctx.skip(`oracle unavailable: ${oracleUnavailableReason()}`);
      return;
    }
    const odir = join(root, 'oracle');
    writeUnits(odir, {});
    const oracle: Oracle = await startOracle({ unitDirs: [odir], logLevel: 'debug' });
    let theirs: Matrix;
    try {
      theirs = await runMatrix(oracleTarget(oracle, odir));
      if (process.env.UNITD_TEST_DUMP) copyFileSync(join(oracle.tmpDir, 'systemd.log'), process.env.UNITD_TEST_DUMP + '.oracle');
    } finally {
      for (const c of CASES) killRecorded(join(odir, `${c.unit}.log`));
      await oracle.stop();
    }
    console.log(`systemd 252: stop of ${CASES.length} units took ${theirs.stopMs} ms`);
    for (const [tracker, mine] of Object.entries(results)) {
      const table = CASES.map((c) => ({ unit: c.unit, unitd: mine.outcomes[c.unit], systemd: theirs.outcomes[c.unit] }));
      console.log(`unitd (${tracker}) vs systemd 252:\n${JSON.stringify(table, null, 1)}`);
      for (const c of CASES) expect.soft(mine.outcomes[c.unit], `${tracker}: ${c.unit}`).toEqual(theirs.outcomes[c.unit]);
    }
    expect(Object.keys(results).sort()).toEqual(['cgroup2', 'proc']);
  });
});
