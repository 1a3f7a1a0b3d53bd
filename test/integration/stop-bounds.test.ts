// The bounds, measured on unitd with real processes and the real systemctl 252:
//  * a TERM-ignoring service is SIGKILLed within 50 ms after TimeoutStopSec (from the
//    "unit state changed" stop-sigterm line to the SIGKILL "signal sent" line and to inactive);
//  * an escaped (setsid'd, double-forked) child that ignores SIGTERM dies at the timeout;
//  * a bounded fork bomb (≤ 2000 processes, still forking) is gone after stop, its cgroup removed.
// The figures are printed (console) for the report; the oracle half of the escape case runs the
// same unit under systemd 252.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oracleAvailable, oracleUnavailableReason, startOracle } from '../oracle/oracle.js';
import { closeLab, openLab, type Lab } from '../helpers/lab.js';
import { REPO_ROOT, type LogLine } from '../helpers/unitd-process.js';
import { PYTHON, SIGREC, isAlive, killRecorded, oracleTarget, readRecords, signalSets, waitForStarts, waitUntil, writeUnits, type Target } from '../helpers/signal-lab.js';

const FORKBOMB = `${REPO_ROOT}test/fixtures/signals/forkbomb.sh`;

const UNITS: Record<string, (dir: string) => string> = {
  'sb-stubborn.service': (dir) => `[Service]\nExecStart=${PYTHON} ${SIGREC} --log ${dir}/sb-stubborn.service.log --name main --ignore-term\nTimeoutStopSec=1s\n`,
  'sb-escape.service': (dir) =>
    `[Service]\nExecStart=${PYTHON} ${SIGREC} --log ${dir}/sb-escape.service.log --name main --escape --escape-ignore-term\nTimeoutStopSec=1s\n`,
  'sb-forkbomb.service': () => `[Service]\nExecStart=${FORKBOMB} 9\nTimeoutStopSec=1s\n`,
};

function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre!.split(' ')[4]!;
  }
  throw new Error('no cgroup2 mount');
}

function procsUnder(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string): void => {
    try {
      for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) out.push(Number(l));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // gone
    }
  };
  walk(dir);
  return out;
}

const time = (l: LogLine): number => Number(l.time);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** lets the fork bomb in `dir` grow to its bound (1023 shells + up to 512 sleeps); returns the peak seen (30 s at most) */
async function grown(dir: string): Promise<number> {
  let peak = 0;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const n = procsUnder(dir).length;
    peak = Math.max(peak, n);
    if (n >= 1300 || Date.now() > deadline) return peak;
    await sleep(100);
  }
}

let lab: Lab;
let t: Target;

beforeAll(async () => {
  lab = await openLab('unitd-stop-bounds-', UNITS);
  t = lab.target;
});

afterAll(() => closeLab(lab));

describe('stop bounds', () => {
  it('a TERM-ignoring service is killed within 50 ms after TimeoutStopSec', { timeout: 60_000 }, async () => {
    const u = 'sb-stubborn.service';
    const figures: number[] = [];
    for (let round = 0; round < 5; round++) {
      const since = Date.now() / 1000;
      expect((await t.systemctl(['start', u])).code).toBe(0);
      await waitForStarts(join(t.dir, `${u}.log`), ['main'], since);
      const mark = lab.unitd.logs.length;
      const t0 = Date.now();
      const stop = await t.systemctl(['stop', u]);
      const wall = Date.now() - t0;
      expect(stop.code, stop.stderr).toBe(0);
      await sleep(50);
      const logs = lab.unitd.logs.slice(mark).filter((l) => l.unit === u);
      const sigterm = logs.find((l) => l.msg === 'unit state changed' && l.subState === 'stop-sigterm')!;
      const kill = logs.find((l) => l.msg === 'signal sent' && l.signal === 'SIGKILL')!;
      const down = logs.find((l) => l.msg === 'unit state changed' && (l.activeState === 'failed' || l.activeState === 'inactive'))!;
      expect(sigterm && kill && down, JSON.stringify(logs)).toBeTruthy();
      const escalation = time(kill) - time(sigterm) - 1000;
      const toInactive = time(down) - time(sigterm) - 1000;
      figures.push(toInactive);
      console.log(`round ${round}: SIGKILL ${escalation} ms after TimeoutStopSec, ${down.activeState}/${down.result} ${toInactive} ms after it; systemctl stop took ${wall} ms`);
      expect(escalation).toBeGreaterThanOrEqual(0);
      // the bound: killed (SIGKILL out) within 50 ms after TimeoutStopSec; the unit is
      // inactive once the kernel has ended the process and unitd has seen it (typically < 10 ms,
      // 50 ms seen under a load average of 27 from parallel test runs)
      expect(escalation).toBeLessThanOrEqual(50);
      expect(toInactive).toBeLessThanOrEqual(100);
      expect(down).toMatchObject({ activeState: 'failed', subState: 'failed', result: 'timeout' });
      expect(signalSets(readRecords(join(t.dir, `${u}.log`))).main).toEqual(['CONT', 'TERM']);
      await t.systemctl(['reset-failed', u]);
    }
    console.log(`stubborn service: down ${Math.max(...figures)} ms (max of ${figures.length}) after TimeoutStopSec`);
  });

  it('an escaped double-forked child that ignores SIGTERM dies at the timeout (unitd and systemd 252)', { timeout: 90_000 }, async () => {
    const run = async (target: Target): Promise<{ got: Record<string, string[]>; diedAfterMs: number; state: string; sid: boolean }> => {
      const u = 'sb-escape.service';
      const since = Date.now() / 1000;
      expect((await target.systemctl(['start', u])).code).toBe(0);
      const pids = await waitForStarts(join(target.dir, `${u}.log`), ['main', 'main.escaped'], since);
      const recs = readRecords(join(target.dir, `${u}.log`));
      const esc = recs.find((r) => r.ev === 'start' && r.pid === pids['main.escaped'])!;
      const t0 = Date.now();
      const stopping = target.systemctl(['stop', u]);
      await waitUntil(() => !isAlive(pids['main.escaped']!), 10_000, 'the escaped child to die');
      const diedAfterMs = Date.now() - t0;
      await stopping;
      const state = `${await target.prop(u, 'ActiveState')}/${await target.prop(u, 'Result')}`;
      return { got: signalSets(readRecords(join(target.dir, `${u}.log`))), diedAfterMs, state, sid: esc.sid !== pids.main };
    };
    const mine = await run(t);
    console.log(`unitd: escaped child gone ${mine.diedAfterMs} ms after stop began (TimeoutStopSec=1s)`);
    expect(mine.sid).toBe(true); // it really left the main process's session
    expect(mine.got).toEqual({ main: ['CONT', 'TERM'], 'main.escaped': ['CONT', 'TERM'] });
    expect(mine.diedAfterMs).toBeGreaterThanOrEqual(1000);
    expect(mine.diedAfterMs).toBeLessThan(2000);
    expect(mine.state).toBe('failed/timeout');
    if (!oracleAvailable()) {
      console.warn(`oracle half skipped: ${oracleUnavailableReason()}`);
      return;
    }
    const dir = join(lab.root, 'oracle');
    writeUnits(dir, UNITS);
    const oracle = await startOracle({ unitDirs: [dir], logLevel: 'debug' });
    try {
      const theirs = await run(oracleTarget(oracle, dir));
      console.log(`systemd 252: escaped child gone ${theirs.diedAfterMs} ms after stop began`);
      expect({ ...mine, diedAfterMs: 0 }).toEqual({ ...theirs, diedAfterMs: 0 });
    } finally {
      killRecorded(join(dir, 'sb-escape.service.log'));
      await oracle.stop();
    }
  });

  it('a bounded fork bomb is gone after stop and its cgroup removed', { timeout: 90_000 }, async () => {
    const u = 'sb-forkbomb.service';
    expect((await t.systemctl(['start', u])).code).toBe(0);
    const cg = await t.prop(u, 'ControlGroup');
    expect(cg).not.toBe('');
    const dir = join(cgroup2Mount(), cg);
    const peak = await grown(dir);
    expect(peak).toBeGreaterThanOrEqual(1300);
    expect(peak).toBeLessThanOrEqual(2000);
    const t0 = Date.now();
    const stop = await t.systemctl(['stop', u]);
    const took = Date.now() - t0;
    expect(stop.code, stop.stderr).toBe(0);
    const left = procsUnder(dir);
    console.log(`fork bomb: ${peak} processes; systemctl stop took ${took} ms; ${left.length} left; cgroup ${existsSync(dir) ? 'still there' : 'removed'}`);
    expect(left).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(await t.prop(u, 'ControlGroup')).toBe('');
    const trace = lab.unitd.logs.filter((l) => l.unit === u && l.time !== undefined && Number(l.time) >= t0 - 50);
    console.log(trace.map((l) => `${Number(l.time) - t0} ms ${l.msg} ${l.subState ?? ''}${l.signal ?? ''} ${l.processes ?? ''}`).join('\n'));
    const sent = lab.unitd.logs.filter((l) => l.unit === u && l.msg === 'signal sent').map((l) => `${l.op}:${l.signal}`);
    expect(sent[0]).toBe('terminate:SIGTERM');
    expect(sent).toContain('kill:SIGKILL');
 
    if (!oracleAvailable()) {
      console.warn(`oracle half skipped: ${oracleUnavailableReason()}`);
      return;
    }
    // the same unit under systemd 252, for the figure
    const odir = join(lab.root, 'oracle-forkbomb');
    writeUnits(odir, { [u]: UNITS[u]! });
    const oracle = await startOracle({ unitDirs: [odir] });
    try {
      const o = oracleTarget(oracle, odir);
      expect((await o.systemctl(['start', u])).code).toBe(0);
      const ocg = join(cgroup2Mount(), await o.prop(u, 'ControlGroup'));
      const opeak = await grown(ocg);
      const o0 = Date.now();
      const ostop = await o.systemctl(['stop', u]);
      const otook = Date.now() - o0;
      console.log(`systemd 252 fork bomb: ${opeak} processes; systemctl stop took ${otook} ms (exit ${ostop.code}); ${procsUnder(ocg).length} left; cgroup ${existsSync(ocg) ? 'still there' : 'removed'}`);
      expect(procsUnder(ocg)).toEqual([]);
    } finally {
      await oracle.stop();
    }
  });
});
