// Issue 3, process tracking: GetUnitProcesses a(sus) and GetUnitByPID for every process of a
// unit, `systemctl status` drawing the CGroup tree, a double-forking setsid'ing service whose
// escaped process is still found (cgroup v2 tracker, and the /proc fallback in a second unitd),
// and 100 start/exit cycles that leave no zombie and no cgroup behind.
// The same units run under real systemd 252 (oracle) where the result is observable the same way.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEST,
  MANAGER,
  Recorder,
  alive,
  cgroup2Mount,
  cgroupOfPid,
  procStatus,
  removeDir,
  startOracleSide,
  startUnitdSide,
  subCgroups,
  unitDir,
  waitUntil,
  zombiesOf,
  type Side,
  type UnitdSide,
} from './start-support.js';

// main: sleep 1000; a child that double-forks and setsid()s away: "sleep 999" whose parent is gone
const ESCAPER = "[Service]\nExecStart=/bin/sh -c '(setsid /bin/sh -c \"/bin/sleep 999 & exit 0\" &); exec /bin/sleep 1000'\n";
// no start limit: 100 starts in a few seconds would hit the default 5 per 10 s (as in systemd)
const NO_LIMIT = '[Unit]\nStartLimitIntervalSec=0\n';

const UNITS: Record<string, string> = {
  'st-tree.service': "[Service]\nExecStart=/bin/sh -c '/bin/sleep 998 & /bin/sleep 997 & exec /bin/sleep 1000'\n",
  'st-escape.service': ESCAPER,
  'st-cycle.service': `${NO_LIMIT}[Service]\nType=oneshot\nExecStart=/bin/sh -c '/bin/true & exit 0'\n`,
  'st-cycle-simple.service': `${NO_LIMIT}[Service]\nExecStart=/bin/true\n`,
  'st-startstop.service': NO_LIMIT + ESCAPER,
};

let dir: string;
let u: UnitdSide;
let p: UnitdSide;
let o: Side | null = null;

beforeAll(async () => {
  dir = unitDir(UNITS);
  u = await startUnitdSide(dir, ['--tracker', 'cgroup2']);
  p = await startUnitdSide(dir, ['--tracker', 'proc']);
  o = await startOracleSide(dir);
}, 60_000);

afterAll(async () => {
  await u?.stop();
  await p?.stop();
  await o?.stop();
  removeDir(dir);
});

type Proc = [string, number, string];

async function unitProcesses(s: Side, unit: string): Promise<Proc[]> {
  const r = await s.busctl(['-j', 'call', DEST, ...MANAGER, 'GetUnitProcesses', 's', unit]);
  if (r.code !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { data: Proc[][] }).data[0]!;
}

async function unitByPid(s: Side, pid: number): Promise<string> {
  const r = await s.busctl(['call', DEST, ...MANAGER, 'GetUnitByPID', 'u', String(pid)]);
  return r.code === 0 ? r.stdout.trim() : r.stderr.trim();
}

function label(s: Side): string {
  return s === u ? 'unitd --tracker cgroup2' : s === p ? 'unitd --tracker proc' : 'systemd 252';
}

interface SideResult<T> {
  side: string;
  value?: T;
  error?: string;
}

/** Runs fn on every side one after the other; a failure on one side does not hide the others. */
async function eachSide<T>(fn: (s: Side) => Promise<T>): Promise<SideResult<T>[]> {
  const out: SideResult<T>[] = [];
  for (const s of [u, p, ...(o ? [o] : [])]) {
    try {
      out.push({ side: label(s), value: await fn(s) });
    } catch (err) {
      out.push({ side: label(s), error: String((err as Error).message).split('\n')[0] });
    }
  }
  return out;
}

/** PIDs whose /proc/PID/cmdline is exactly the given arguments. */
function findProcesses(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8') === want) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

function sessionOf(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]!;
}

/** The escaped process inherited the main process's $INVOCATION_ID: that is how the test finds it. */
function sameInvocation(pid: number, main: number): boolean {
  const inv = (x: number): string | undefined => {
    try {
      return readFileSync(`/proc/${x}/environ`, 'utf8').split('\0').find((v) => v.startsWith('INVOCATION_ID='));
    } catch {
      return undefined;
    }
  };
  return inv(pid) !== undefined && inv(pid) === inv(main);
}

function trackerRoot(s: UnitdSide): string {
  const line = s.unitd.logs.find((l) => l.msg === 'process tracker');
  return String(line?.controlGroup ?? '');
}

describe('GetUnitProcesses, GetUnitByPID, the CGroup tree', () => {
  it('every process of the unit, with its cgroup; GetUnitByPID names the unit for each', async () => {
    const r = await eachSide(async (s) => {
      await s.systemctl(['start', 'st-tree.service']);
      try {
        const main = Number((await s.show('st-tree.service', ['MainPID'])).MainPID);
        const cg = (await s.show('st-tree.service', ['ControlGroup'])).ControlGroup!;
        const children = await waitUntil(() => {
          const x = [...findProcesses(['/bin/sleep', '998']), ...findProcesses(['/bin/sleep', '997'])].filter((pid) => sameInvocation(pid, main));
          return x.length === 2 ? x : undefined;
        }, 'children', 5000);
        const procs = await waitUntil(async () => {
          const x = await unitProcesses(s, 'st-tree.service');
          return x.length === 3 ? x : undefined;
        }, 'three processes in GetUnitProcesses', 3000).catch(() => unitProcesses(s, 'st-tree.service'));
        const byPid = await Promise.all([main, ...children].map((pid) => unitByPid(s, pid)));
        const status = await s.systemctl(['status', 'st-tree.service']);
        const lines = status.stdout.split('\n');
        const at = lines.findIndex((l) => l.includes('CGroup:'));
        return {
          commands: procs.map((x) => x[2]).sort(),
          pids: procs.map((x) => x[1]).sort().join() === [main, ...children].sort().join(),
          cgroupField: procs.every((x) => x[0] === cg),
          realCgroup: procs.every((x) => cgroupOfPid(x[1]) === cg),
          byPid: byPid.every((x) => x === 'o "/org/freedesktop/systemd1/unit/st_2dtree_2eservice"'),
          cgroupLine: at >= 0 && lines[at]!.trim() === `CGroup: ${cg}`,
          tree: at < 0 ? [] : lines.slice(at + 1, at + 4).map((l) => l.trim().replace(/\d+/g, 'N')),
        };
      } finally {
        await s.systemctl(['stop', 'st-tree.service']);
      }
    });
    const want = {
      commands: ['/bin/sleep 1000', '/bin/sleep 997', '/bin/sleep 998'],
      pids: true,
      cgroupField: true,
      realCgroup: true,
      byPid: true,
      cgroupLine: true,
      tree: ['|-N /bin/sleep N', '|-N /bin/sleep N', '`-N /bin/sleep N'],
    };
    // the /proc fallback has no cgroup: the processes stay in unitd's own cgroup
    // (the /proc side needs Manager.processesOf to ask the tracker even when ControlGroup is "":
    // until then GetUnitProcesses lists only the main process there and this test fails)
    const wantProc = { ...want, cgroupField: false, realCgroup: false, cgroupLine: false, tree: [] };
    expect(r).toEqual(r.map((x) => ({ side: x.side, value: x.side.includes('proc') ? wantProc : want })));
  });
});

describe("a double-forking, setsid'ing service", () => {
  it('its escaped process is in its cgroup, in GetUnitProcesses and GetUnitByPID; stop ends it (cgroup2, /proc fallback, systemd)', async () => {
    const r = await eachSide(async (s) => {
      await s.systemctl(['start', 'st-escape.service']);
      let escaped = 0;
      try {
        const main = Number((await s.show('st-escape.service', ['MainPID'])).MainPID);
        // found among all processes by command line and inherited $INVOCATION_ID, not through unitd
        escaped = await waitUntil(() => {
          const x = findProcesses(['/bin/sleep', '999']).filter((pid) => sameInvocation(pid, main));
          return x.length === 1 ? x[0] : undefined;
        }, 'escaped process', 5000);
        const procs = await waitUntil(async () => {
          const x = await unitProcesses(s, 'st-escape.service');
          return x.some((y) => y[1] === escaped) ? x : undefined;
        }, 'escaped process in GetUnitProcesses', 3000).catch(() => unitProcesses(s, 'st-escape.service'));
        const st = procStatus(escaped)!;
        const cg = (await s.show('st-escape.service', ['ControlGroup'])).ControlGroup!;
        const byPid = await unitByPid(s, escaped);
        const ownSession = sessionOf(escaped) !== sessionOf(main);
        const inCgroup = cg !== '' && cgroupOfPid(escaped) === cg;
        const stop = await s.systemctl(['stop', 'st-escape.service']);
        const gone = await waitUntil(() => !alive(escaped), `escaped ${escaped} gone`, 5000).catch(() => false);
        return {
          commands: procs.map((x) => x[2]).sort(),
          escapedListed: procs.some((x) => x[1] === escaped),
          escapedNotChildOfMain: Number(st.PPid) !== main,
          ownSession,
          inCgroup,
          byPid,
          stop: stop.code,
          gone,
        };
      } finally {
        await s.systemctl(['stop', 'st-escape.service']);
        if (escaped > 0 && alive(escaped)) process.kill(escaped, 'SIGKILL');
      }
    });
    const want = {
      commands: ['/bin/sleep 1000', '/bin/sleep 999'],
      escapedListed: true,
      escapedNotChildOfMain: true,
      ownSession: true,
      inCgroup: true,
      byPid: 'o "/org/freedesktop/systemd1/unit/st_2descape_2eservice"',
      stop: 0,
      gone: true,
    };
    expect(r).toEqual(r.map((x) => ({ side: x.side, value: x.side.includes('proc') ? { ...want, inCgroup: false } : want })));
  });
});

describe('100 start/exit cycles leave no zombie and no cgroup', () => {
  async function cycles(s: UnitdSide, unit: string, n: number, withStop: boolean): Promise<number[]> {
    const rec = await Recorder.connect(s.address);
    const unitPath = `/org/freedesktop/systemd1/unit/${unit.replace(/-/g, '_2d').replace(/\./g, '_2e')}`;
    const times: number[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const { reply } = await rec.manager('StartUnit', 'ss', [unit, 'replace']);
        const removed = await rec.waitFor((m) => m.member === 'JobRemoved' && m.body[1] === reply.body[0], `start JobRemoved #${i}`);
        times.push(performance.now() - t0);
        if (removed.body[3] !== 'done') throw new Error(`start #${i}: ${String(removed.body[3])}`);
        if (withStop) {
          const stop = await rec.manager('StopUnit', 'ss', [unit, 'replace']);
          const stopped = await rec.waitFor((m) => m.member === 'JobRemoved' && m.body[1] === stop.reply.body[0], `stop JobRemoved #${i}`);
          if (stopped.body[3] !== 'done') throw new Error(`stop #${i}: ${String(stopped.body[3])}`);
        } else {
          // the main process exits at once: wait until the unit is inactive again
          await waitUntil(async () => {
            const r = await rec.call(DEST, unitPath, 'org.freedesktop.DBus.Properties', 'Get', 'ss', ['org.freedesktop.systemd1.Unit', 'ActiveState']);
            const v = (r.reply.body[0] as { value: string }).value;
            return v === 'inactive' || v === 'failed';
          }, `inactive #${i}`, 5000, 5);
        }
        rec.seen.length = 0;
      }
    } finally {
      rec.close();
    }
    return times;
  }

  function summary(times: number[]): string {
    const sorted = [...times].sort((a, b) => a - b);
    const q = (f: number): string => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))]!.toFixed(1);
    return `median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`;
  }

  // the /proc fallback is much slower per cycle (0.5 s median for the oneshot, 67 s for 100 cycles
  // measured on 2026-11-22): 20 cycles there keep the file's run time sane
  it.each([
    ['cgroup2', 'oneshot whose child is orphaned', 'st-cycle.service', false, 100],
    ['cgroup2', 'simple whose main exits at once', 'st-cycle-simple.service', false, 100],
    ['cgroup2', 'start+stop of a double-forking service', 'st-startstop.service', true, 100],
    ['proc', 'oneshot whose child is orphaned', 'st-cycle.service', false, 20],
    ['proc', 'start+stop of a double-forking service', 'st-startstop.service', true, 20],
  ] as const)('%s tracker: %s', async (tracker, _label, unit, withStop, n) => {
    const s = tracker === 'cgroup2' ? u : p;
    const t0 = Date.now();
    let times: number[] = [];
    let failure = '';
    try {
      times = await cycles(s, unit, n, withStop);
    } catch (err) {
      failure = (err as Error).message.split('\n')[0]!;
      const logs = s.unitd.logs.filter((l) => l.unit === unit).slice(-15).map((l) => JSON.stringify(l));
      console.warn(`${tracker} ${unit}: ${failure}\n${logs.join('\n')}`);
    }
    const total = Date.now() - t0;
    if (times.length > 0) console.info(`${tracker} ${unit} x${times.length}${withStop ? ' (start+stop)' : ''}: ${total} ms total; start job ${summary(times)}`);
    expect(failure).toBe('');
    // orphans are reaped asynchronously: give the reaper a moment, then demand none
    const zombies = await waitUntil(() => (zombiesOf(s.unitd.pid).length === 0 ? [] : undefined), 'no zombies of unitd', 5000, 50).catch(() => zombiesOf(s.unitd.pid));
    expect(zombies).toEqual([]);
    expect(s.unitd.child.exitCode).toBeNull();
    if (tracker === 'cgroup2') {
      const root = join(cgroup2Mount(), trackerRoot(s));
      expect(existsSync(root)).toBe(true);
      const left = await waitUntil(() => (subCgroups(root).length === 0 ? [] : undefined), 'no leftover cgroup', 5000, 50).catch(() => subCgroups(root));
      expect(left).toEqual([]);
    }
    const state = await s.show(unit, ['ActiveState', 'Result']);
    expect(state).toEqual({ ActiveState: 'inactive', Result: 'success' });
  }, 300_000);
});
