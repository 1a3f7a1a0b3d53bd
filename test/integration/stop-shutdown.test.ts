// unitd's own shutdown (SIGTERM / SIGINT to unitd): every active unit is stopped through the same
// pipeline (ExecStop, KillSignal + SIGCONT, escalation at TimeoutStopSec), all in parallel; unitd
// exits 0 once they are down and leaves no process or cgroup behind.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';
import { startUnitd } from '../helpers/unitd-process.js';
import { PYTHON, SIGREC, isAlive, killRecorded, pidsOf, readRecords, signalSets, unitdTarget, waitForStarts, writeArgRecorder, writeUnits } from '../helpers/signal-lab.js';

const UNITS: Record<string, (dir: string) => string> = {
  // takes TimeoutStopSec (1 s) to die: ignores SIGTERM, SIGKILLed at the timeout
  'sd-stubborn.service': (dir) => `[Service]\nExecStart=${PYTHON} ${SIGREC} --log ${dir}/sd-stubborn.service.log --name main --ignore-term --children 1\nTimeoutStopSec=1s\n`,
  // takes ~1 s in ExecStop, which gets $MAINPID
  'sd-slowstop.service': (dir) =>
    `[Service]\nExecStart=${PYTHON} ${SIGREC} --log ${dir}/sd-slowstop.service.log --name main\nExecStop=${dir}/argrec.sh ${dir}/sd-slowstop.args stop $MAINPID\nExecStop=/bin/sleep 1\nTimeoutStopSec=5s\n`,
  // the main process outlives the escaped one by 300 ms after SIGTERM, so the final round finds nobody
  'sd-plain.service': (dir) => `[Service]\nExecStart=${PYTHON} ${SIGREC} --log ${dir}/sd-plain.service.log --name main --escape --drain 400\nSendSIGHUP=yes\n`,
  'sd-idle.service': () => `[Service]\nExecStart=/bin/sleep 1000\n`,
};
const ACTIVE = ['sd-stubborn.service', 'sd-slowstop.service', 'sd-plain.service'];

let bus: PrivateBus | null = null;
const roots: string[] = [];

afterAll(async () => {
  for (const root of roots) {
    for (const u of ACTIVE) killRecorded(join(root, `${u}.log`));
    rmSync(root, { recursive: true, force: true });
  }
  await bus?.stop();
});

function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre!.split(' ')[4]!;
  }
  throw new Error('no cgroup2 mount');
}

describe("unitd's shutdown", () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}: stops every active unit in parallel, the same way, then exits 0`, { timeout: 60_000 }, async () => {
      const root = mkdtempSync(join(tmpdir(), 'unitd-shutdown-'));
      roots.push(root);
      writeUnits(root, UNITS);
      writeArgRecorder(root);
      bus ??= await startPrivateBus();
      const unitd = await startUnitd(['--bus-address', bus.address, '--unit-path', root, '--log-level', 'debug']);
      // stopped (and its units with it) even when an expectation fails before the test stops it
      onTestFinished(async () => {
        await unitd.stop();
      });
      const t = unitdTarget(unitd, bus.address, root);
      const since = Date.now() / 1000;
      expect((await t.systemctl(['start', ...ACTIVE])).code).toBe(0);
      const pids: Record<string, Record<string, number>> = {};
      pids['sd-stubborn.service'] = await waitForStarts(join(root, 'sd-stubborn.service.log'), ['main', 'main.child1'], since);
      pids['sd-slowstop.service'] = await waitForStarts(join(root, 'sd-slowstop.service.log'), ['main'], since);
      pids['sd-plain.service'] = await waitForStarts(join(root, 'sd-plain.service.log'), ['main', 'main.escaped'], since);
      const cgroups = await Promise.all(ACTIVE.map((u) => t.prop(u, 'ControlGroup')));
      const tracker = unitd.logs.find((l) => l.msg === 'process tracker');
      const rootCg = join(cgroup2Mount(), String(tracker?.controlGroup ?? ''));
      expect(existsSync(rootCg)).toBe(true);

      const t0 = Date.now();
      const code = await unitd.stop(signal);
      const took = Date.now() - t0;
      console.log(`${signal}: unitd exited ${code} after ${took} ms (longest unit: ~1 s)`);
      expect(code).toBe(0);
      // in parallel: the two ~1 s stops overlap (sequentially they would take > 2 s)
      expect(took).toBeGreaterThanOrEqual(1000);
      expect(took).toBeLessThan(1900);
      for (const u of ACTIVE) for (const pid of Object.values(pids[u]!)) expect(isAlive(pid), `${u} ${pid}`).toBe(false);
      expect(signalSets(readRecords(join(root, 'sd-stubborn.service.log')))).toEqual({ main: ['CONT', 'TERM'], 'main.child1': ['CONT', 'TERM'] });
      expect(signalSets(readRecords(join(root, 'sd-plain.service.log')))).toEqual({ main: ['CONT', 'HUP', 'TERM'], 'main.escaped': ['CONT', 'HUP', 'TERM'] });
      expect(readFileSync(join(root, 'sd-slowstop.args'), 'utf8')).toBe(`stop|${pids['sd-slowstop.service']!.main}|\n`);
      // the pipeline's states, per unit
      const states = (u: string) => unitd.logs.filter((l) => l.msg === 'unit state changed' && l.unit === u && Number(l.time) >= t0).map((l) => l.subState);
      expect(states('sd-stubborn.service')).toEqual(['stop-sigterm', 'stop-sigkill', 'failed']);
      expect(states('sd-slowstop.service')).toEqual(['stop', 'stop-sigterm', 'dead']);
      expect(states('sd-plain.service')).toEqual(['stop-sigterm', 'dead']);
      expect(states('sd-idle.service')).toEqual([]);
      for (const cg of cgroups) expect(existsSync(join(cgroup2Mount(), cg))).toBe(false);
      expect(existsSync(rootCg)).toBe(false);
      expect(pidsOf(readRecords(join(root, 'sd-plain.service.log'))).main).toBe(pids['sd-plain.service']!.main);
    });
  }
});
