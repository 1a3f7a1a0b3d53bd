// The six measurements. Each returns rows: a figure for unitd, its baseline from the same run
// (the bus floor, or real systemd 252), the ratio and the target.
import { rmSync, watch } from 'node:fs';
import { join } from 'node:path';
import { Client, MANAGER_PATH } from './client.js';
import { cgroupPids, cgroupPopulated, cpuMs, destroyCgroup, rssKiB, startSystemdTarget, startUnitdTarget, systemdAvailable, type Target, type UnitdTarget } from './targets.js';
import { BOMB_UNIT, KILL_UNIT, MANY_TARGET, STUBBORN_UNIT, parseLinesUnit, parseMaxUnit, parseSpecifiersUnit, stopUnit, survivors, writeManyUnits } from './units.js';
import { now, round, sleep, summarize, type Summary } from './stats.js';
import { floorMethods, floorName, floorStop } from './floor.js';

export interface Row {
  id: string;
  what: string;
  unit: string; // of the figures: ms, µs, calls/s, MiB, count
  unitd: number;
  baseline: number | null;
  baselineName: string;
  /** unitd / baseline */
  ratio: number | null;
  target: string;
  pass: boolean | null;
  detail?: Record<string, unknown>;
}

export interface Sizes {
  full: boolean;
  pingKillCalls: number;
  stopSizes: number[];
  stopReps: Record<number, number>;
  escalationReps: number;
  bombSize: number;
  bombReps: number;
  manyUnits: number;
  startups: number;
  listUnitsReps: number;
  getAllReps: number;
  throughputCalls: number;
  /** scenario 7: Environment= lines of the large unit file, `%n` in one value, repetitions (each its own copy) */
  parseLines: number;
  parseSpecifiers: number;
  parseReps: number;
  /** systemd 252 is quadratic in Environment= lines (42 s for 100k here): fewer repetitions for it */
  parseSystemdLineReps: number;
  /** also load one file of READ_FULL_BYTES_MAX bytes (unitd only) */
  parseMax: boolean;
}

export const SMALL: Sizes = {
  full: false, pingKillCalls: Number(process.env.BENCH_KILL_CALLS ?? 1000), stopSizes: [1, 100, 1000], stopReps: { 1: 5, 100: 3, 1000: 2 }, escalationReps: 2,
  bombSize: 2000, bombReps: 1, manyUnits: 1000, startups: 2, listUnitsReps: 20, getAllReps: 50, throughputCalls: 10_000,
  parseLines: 10_000, parseSpecifiers: 10_000, parseReps: 3, parseSystemdLineReps: 3, parseMax: false,
};
export const FULL: Sizes = {
  full: true, pingKillCalls: 10_000, stopSizes: [1, 10, 100, 300, 1000], stopReps: { 1: 15, 10: 10, 100: 10, 300: 7, 1000: 7 }, escalationReps: 5,
  bombSize: 2000, bombReps: 3, manyUnits: 1000, startups: 5, listUnitsReps: 200, getAllReps: 500, throughputCalls: 100_000,
  parseLines: 100_000, parseSpecifiers: 100_000, parseReps: 3, parseSystemdLineReps: 1, parseMax: true,
};

const SERVICE = 'org.freedesktop.systemd1.Service';
/** scenario 1's warm-up per manager, in ms */
const WARM_UP_MS = 6000;
const log = (s: string): void => void process.stderr.write(`[bench] ${s}\n`);

function ratioRow(r: Omit<Row, 'ratio' | 'pass'>, limit: number | null): Row {
  const ratio = r.baseline === null || r.baseline === 0 ? null : round(r.unitd / r.baseline, 3);
  const pass = limit === null || ratio === null ? null : ratio <= limit;
  return { ...r, unitd: round(r.unitd), baseline: r.baseline === null ? null : round(r.baseline), ratio, pass };
}

async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!pred()) {
    if (now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export interface Session {
  target: Target;
  client: Client;
}

export async function openSession(target: Target): Promise<Session> {
  const client = await Client.connect(target.busAddress, now);
  await client.subscribeJobs();
  return { target, client };
}

/** starts a unit, waits until its cgroup holds n processes; returns the cgroup directory */
async function startWithProcs(s: Session, unit: string, n: number): Promise<string> {
  const { removed } = await s.client.job('StartUnit', unit);
  if (removed.result !== 'done') throw new Error(`${s.target.name}: start ${unit}: ${removed.result}`);
  const path = await s.client.unitPath(unit);
  const cg = String(await s.client.getProperty(path, SERVICE, 'ControlGroup'));
  if (!cg) throw new Error(`${s.target.name}: ${unit} has no ControlGroup`);
  const dir = s.target.unitCgroupDir(cg);
  await waitFor(() => cgroupPids(dir).length >= n, 60_000, `${n} processes in ${dir}`);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// 1. KillUnit round trip vs Peer.Ping on the same connection

export async function killVsPing(sessions: Session[], sizes: Sizes): Promise<Row[]> {
  const result: Record<string, Record<string, Summary>> = {};
  for (const s of sessions) {
    await s.client.job('StartUnit', KILL_UNIT);
    const ops: Record<string, () => Promise<unknown>> = {
      ping: () => s.client.ping(),
      getUnit: () => s.client.manager('GetUnit', 's', [KILL_UNIT]),
      killMain: () => s.client.manager('KillUnit', 'ssi', [KILL_UNIT, 'main', 18]),
      killAll: () => s.client.manager('KillUnit', 'ssi', [KILL_UNIT, 'all', 18]),
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
    // Warm-up by time, not by count: unitd's paths are JIT-compiled after some thousands of calls
    // (the steady state of a long-running daemon is what is measured). 200 rounds were enough
    // for the full run's 10k calls, not for the small run's 1k: KillUnit(all) measured 1.42-1.51x
    // Ping there against 1.16x in a full run; 1.21-1.22x after 3 s of warm-up, 1.19-1.20x after 6 s.
    const warmUntil = now() + WARM_UP_MS;
    for (let i = 0; i < 200 || now() < warmUntil; i++) for (const op of Object.values(ops)) await op();
    const block = 50;
    for (let done = 0; done < sizes.pingKillCalls; done += block) {
      for (const [name, op] of Object.entries(ops)) {
        for (let i = 0; i < block; i++) {
          const t = now();
          await op();
          samples[name]!.push((now() - t) * 1000);
        }
      }
    }
    await s.client.job('StopUnit', KILL_UNIT);
    result[s.target.name] = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
  }
  const u = result.unitd!;
  const sd = result.systemd;
  const rows: Row[] = [];
  rows.push(ratioRow({
    id: '1.getUnit', what: 'GetUnit round trip vs Peer.Ping (a cheap method with an argument)', unit: 'µs', unitd: u.getUnit!.median, baseline: u.ping!.median,
    baselineName: 'unitd Peer.Ping, same connection', target: 'context',
  }, null));
  if (sd) {
    rows.push(ratioRow({
      id: '1.ping.systemd', what: 'Peer.Ping round trip vs systemd 252', unit: 'µs', unitd: u.ping!.median, baseline: sd.ping!.median,
      baselineName: 'systemd 252 (same client, its own dbus-daemon)', target: 'context',
    }, null));
  }
  const b = result['unitd-b'];
  if (b) {
    for (const key of ['ping', 'getUnit', 'killMain', 'killAll']) {
      rows.push(ratioRow({ id: `1.${key}.ab`, what: `A/B: ${key} round trip, unitd-b vs unitd`, unit: 'µs', unitd: b[key]!.median, baseline: u[key]!.median, baselineName: 'unitd (A)', target: 'A/B' }, null));
    }
  }
  for (const [key, label] of [['killMain', 'KillUnit(main, SIGCONT)'], ['killAll', 'KillUnit(all, SIGCONT), 1 process']] as const) {
    rows.push(ratioRow({
      id: `1.${key}`, what: `${label} round trip vs Peer.Ping`, unit: 'µs', unitd: u[key]!.median, baseline: u.ping!.median,
      baselineName: 'unitd Peer.Ping, same connection', target: '≤ 1.2×',
      detail: { unitd: u, systemd: sd ?? null },
    }, 1.2));
    if (sd) {
      rows.push(ratioRow({
        id: `1.${key}.systemd`, what: `${label} round trip vs systemd 252`, unit: 'µs', unitd: u[key]!.median, baseline: sd[key]!.median,
        baselineName: 'systemd 252 (same client, its own dbus-daemon)', target: 'context',
      }, null));
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 2. StopUnit -> JobRemoved, N processes that die on SIGTERM

export interface StopCurve {
  sizes: number[];
  series: Record<string, { n: number; median: number; min: number; max: number; samples: number[] }[]>;
}

async function stopOnce(s: Session, unit: string, n: number): Promise<{ ms: number; leftAtJobRemoved: number; result: string }> {
  const dir = await startWithProcs(s, unit, n);
  await sleep(50);
  const { t0, removed } = await s.client.job('StopUnit', unit);
  const left = cgroupPids(dir).length;
  if (cgroupPopulated(dir)) await waitFor(() => !cgroupPopulated(dir), 30_000, `${dir} empty`);
  return { ms: removed.at - t0, leftAtJobRemoved: left, result: removed.result };
}

export async function stopCurve(sessions: Session[], sizes: Sizes): Promise<{ rows: Row[]; curve: StopCurve }> {
  const samples: Record<string, Record<number, number[]>> = {};
  const anomalies: string[] = [];
  // the managers, then the kernel floor's ways (floor.ts), each run as one of the contenders
  const floors = floorMethods();
  const contenders: { name: string; stop: (n: number) => Promise<number> }[] = [
    ...sessions.map((s) => ({
      name: s.target.name,
      stop: async (n: number): Promise<number> => {
        const r = await stopOnce(s, stopUnit(n), n);
        if (r.result !== 'done' || r.leftAtJobRemoved > 0) anomalies.push(`${s.target.name} n=${n}: result ${r.result}, ${r.leftAtJobRemoved} left at JobRemoved`);
        return r.ms;
      },
    })),
    ...floors.map((m) => ({ name: floorName(m), stop: (n: number) => floorStop(n, m) })),
  ];
  for (const n of sizes.stopSizes) {
    // one stop each that is not counted: unitd's first run of a path is JIT-compiled on the
    // way (a long-running daemon's steady state is what is measured), and caches warm for all
    for (const c of contenders) await c.stop(n);
    for (let rep = 0; rep < (sizes.stopReps[n] ?? 3); rep++) {
      // alternate the order so drift hits all alike
      const order = rep % 2 === 0 ? contenders : [...contenders].reverse();
      for (const c of order) ((samples[c.name] ??= {})[n] ??= []).push(await c.stop(n));
    }
    log(`stop ${n}: ${Object.entries(samples).map(([k, v]) => `${k} ${summarize(v[n]!).median.toFixed(1)} ms`).join(', ')}`);
  }
  const curve: StopCurve = { sizes: sizes.stopSizes, series: {} };
  for (const [name, bySize] of Object.entries(samples)) {
    curve.series[name] = sizes.stopSizes.map((n) => {
      const sm = summarize(bySize[n]!);
      return { n, median: round(sm.median), min: round(sm.min), max: round(sm.max), samples: bySize[n]!.map((x) => round(x)) };
    });
  }
  const rows: Row[] = [];
  const top = Math.max(...sizes.stopSizes);
  for (const n of sizes.stopSizes.filter((x) => [1, 100, 1000].includes(x))) {
    const u = summarize(samples.unitd![n]!);
    const sd = samples.systemd ? summarize(samples.systemd[n]!) : null;
    rows.push(ratioRow({
      id: `2.stop${n}`, what: `StopUnit → JobRemoved, ${n} process${n > 1 ? 'es' : ''} (die on TERM)`, unit: 'ms', unitd: u.median,
      baseline: sd?.median ?? null, baselineName: 'systemd 252 --user, same run', target: n === top ? '≤ 0.8× systemd' : 'context',
      detail: { unitd: u, systemd: sd, anomalies: anomalies.filter((a) => a.includes(`n=${n}:`)) },
    }, n === top ? 0.8 : null));
  }
  for (const m of floors) {
    const u = summarize(samples.unitd![top]!);
    const f = summarize(samples[floorName(m)]![top]!);
    const sd = samples.systemd ? summarize(samples.systemd[top]!) : null;
    const systemdVsFloor = sd ? round(sd.median / f.median, 3) : null;
    rows.push(ratioRow({
      id: `2.stop${top}.floor-${m}`,
      what: `StopUnit → JobRemoved, ${top} processes, vs the kernel floor ${m === 'freeze' ? 'with' : 'without'} the freeze (the bench ends the same processes itself${m === 'freeze' ? ': freeze, signal, thaw' : ': signal only, as systemd'}; no bus, no job)`,
      unit: 'ms', unitd: u.median, baseline: f.median,
      baselineName: `${floorName(m)}, same run${systemdVsFloor === null ? '' : `; systemd at ${systemdVsFloor.toFixed(2)}× it`}`, target: 'context',
      detail: { floor: f, unitd: u, systemd: sd, systemdVsFloor },
    }, null));
  }
  if (samples['unitd-b']) {
    for (const n of sizes.stopSizes) {
      rows.push(ratioRow({ id: `2.stop${n}.ab`, what: `A/B: StopUnit → JobRemoved, ${n}, unitd-b vs unitd`, unit: 'ms', unitd: summarize(samples['unitd-b'][n]!).median, baseline: summarize(samples.unitd![n]!).median, baselineName: 'unitd (A)', target: 'A/B' }, null));
    }
  }
  return { rows, curve };
}

// ---------------------------------------------------------------------------------------------
// 3. escalation: TERM ignored, TimeoutStopSec=1

export async function escalation(sessions: Session[], sizes: Sizes): Promise<Row[]> {
  const past: Record<string, number[]> = {};
  for (let rep = 0; rep < sizes.escalationReps; rep++) {
    for (const s of rep % 2 === 0 ? sessions : [...sessions].reverse()) {
      const dir = await startWithProcs(s, STUBBORN_UNIT, 1);
      await sleep(50);
      const { t0, removed } = await s.client.job('StopUnit', STUBBORN_UNIT, 30_000);
      (past[s.target.name] ??= []).push(removed.at - t0 - 1000);
      if (cgroupPopulated(dir)) await waitFor(() => !cgroupPopulated(dir), 10_000, `${dir} empty`);
    }
  }
  const u = summarize(past.unitd!);
  const sd = past.systemd ? summarize(past.systemd) : null;
  log(`escalation: unitd ${u.median.toFixed(1)} ms past the timeout${sd ? `, systemd ${sd.median.toFixed(1)} ms` : ''}`);
  const row = ratioRow({
    id: '3.escalation', what: 'TERM ignored, TimeoutStopSec=1: JobRemoved past the timeout', unit: 'ms', unitd: u.median,
    baseline: sd?.median ?? null, baselineName: 'systemd 252 --user, same run', target: '≤ 50 ms',
    detail: { unitd: u, systemd: sd, samples: past },
  }, null);
  row.pass = u.median <= 50;
  const rows = [row];
  if (past['unitd-b']) rows.push(ratioRow({ id: '3.escalation.ab', what: 'A/B: past the timeout, unitd-b vs unitd', unit: 'ms', unitd: summarize(past['unitd-b']).median, baseline: u.median, baselineName: 'unitd (A)', target: 'A/B' }, null));
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 4. bounded fork bomb: N processes, each re-forking (parent exits) about once a second

export async function forkBomb(sessions: Session[], sizes: Sizes): Promise<Row[]> {
  const res: Record<string, { jobMs: number[]; emptyMs: number[]; survivors: number[]; result: string[] }> = {};
  for (let rep = 0; rep < sizes.bombReps; rep++) {
    for (const s of rep % 2 === 0 ? sessions : [...sessions].reverse()) {
      const r = (res[s.target.name] ??= { jobMs: [], emptyMs: [], survivors: [], result: [] });
      const dir = await startWithProcs(s, BOMB_UNIT, sizes.bombSize);
      await sleep(1500); // let it churn: every process has hopped at least once
      let emptyAt = 0;
      const check = (): void => {
        if (!emptyAt && !cgroupPopulated(dir)) emptyAt = now();
      };
      let watcher: ReturnType<typeof watch> | null = null;
      try {
        watcher = watch(join(dir, 'cgroup.events'), check);
        watcher.on('error', () => undefined);
      } catch {
        /* no inotify: the poll below */
      }
      const poll = setInterval(check, 5);
      const t0 = now();
      let jobAt = NaN;
      let result = 'no JobRemoved within 30 s';
      try {
        const { removed } = await s.client.job('StopUnit', BOMB_UNIT, 30_000);
        jobAt = removed.at;
        result = removed.result;
      } catch (e) {
        log(`fork bomb ${s.target.name}: ${(e as Error).message}`);
      }
      check();
      await waitFor(() => emptyAt > 0, 10_000, `${dir} empty`).catch(() => undefined);
      clearInterval(poll);
      watcher?.close();
      await sleep(1000);
      const left = survivors();
      r.jobMs.push(jobAt - t0);
      r.emptyMs.push(emptyAt ? emptyAt - t0 : NaN);
      r.survivors.push(left.length);
      r.result.push(result);
      log(`fork bomb ${s.target.name}: JobRemoved ${(jobAt - t0).toFixed(1)} ms (${result}), empty ${(emptyAt - t0).toFixed(1)} ms, survivors ${left.length}`);
      // survivors are ended through the target's own cgroup (they cannot leave it), then by PID
      if (left.length > 0) await destroyCgroup(dir);
      for (const p of survivors()) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
  const u = res.unitd!;
  const sd = res.systemd;
  const rows: Row[] = [];
  rows.push(ratioRow({
    id: '4.bomb.empty', what: `fork bomb (${sizes.bombSize} processes, still forking): StopUnit → cgroup empty`, unit: 'ms',
    unitd: summarize(u.emptyMs).median, baseline: sd ? summarize(sd.emptyMs).median : null, baselineName: 'systemd 252 --user, same run',
    target: 'context', detail: { unitd: u, systemd: sd ?? null },
  }, null));
  rows.push(ratioRow({
    id: '4.bomb.job', what: 'fork bomb: StopUnit → JobRemoved', unit: 'ms', unitd: summarize(u.jobMs).median,
    baseline: sd ? summarize(sd.jobMs).median : null, baselineName: 'systemd 252 --user, same run', target: 'context',
  }, null));
  const b = res['unitd-b'];
  if (b) {
    rows.push(ratioRow({ id: '4.bomb.empty.ab', what: 'A/B: fork bomb → cgroup empty, unitd-b vs unitd', unit: 'ms', unitd: summarize(b.emptyMs).median, baseline: summarize(u.emptyMs).median, baselineName: 'unitd (A)', target: 'A/B', detail: { b } }, null));
  }
  const surv = Math.max(...u.survivors);
  const failed = u.result.filter((x) => x !== 'done');
  rows.push({
    id: '4.bomb.survivors', what: 'fork bomb: survivors 1 s after JobRemoved (max over runs)', unit: 'count', unitd: surv,
    baseline: sd ? Math.max(...sd.survivors) : null, baselineName: 'systemd 252 --user, same run', ratio: null, target: '= 0, JobRemoved "done"', pass: surv === 0 && failed.length === 0,
    detail: { unitdResults: u.result, systemdResults: sd?.result ?? null },
  });
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 5. 1000 loaded units

interface QueryLatencies {
  loaded: number;
  ping: Summary;
  list: Summary;
  getAll: Summary;
}

/** Ping alone (the floor), then ListUnits and GetAll("") on one unit, alternating */
async function queryLatencies(c: Client, sizes: Sizes, minUnits: number): Promise<QueryLatencies> {
  const [units] = await c.manager('ListUnits');
  const loaded = (units as unknown[]).length;
  if (loaded < minUnits) throw new Error(`ListUnits lists ${loaded} units, expected ≥ ${minUnits}`);
  const path = await c.unitPath('many-0500.service');
  const getAll = (): Promise<unknown[]> => c.call(path, 'org.freedesktop.DBus.Properties', 'GetAll', 's', ['']);
  const lat: Record<string, number[]> = { ping: [], list: [], getAll: [] };
  for (let i = 0; i < 20; i++) {
    await c.manager('ListUnits');
    await getAll();
  }
  for (let i = 0; i < 200; i++) {
    // the floor, on its own (a Ping right after a 1000-entry ListUnits reply pays for its GC)
    const t0 = now();
    await c.ping();
    lat.ping!.push(now() - t0);
  }
  for (let i = 0; i < Math.max(sizes.listUnitsReps, sizes.getAllReps); i++) {
    if (i < sizes.listUnitsReps) {
      const t0 = now();
      await c.manager('ListUnits');
      lat.list!.push(now() - t0);
    }
    if (i < sizes.getAllReps) {
      const t0 = now();
      await getAll();
      lat.getAll!.push(now() - t0);
    }
  }
  return { loaded, ping: summarize(lat.ping!), list: summarize(lat.list!), getAll: summarize(lat.getAll!) };
}

/** the same 1000 units in systemd --user: start bench-many.target, then the same queries */
async function manyUnitsSystemd(dir: string, sizes: Sizes): Promise<(QueryLatencies & { rssMiB: number; loadMs: number }) | null> {
  if (!systemdAvailable().ok) return null;
  const sd = await startSystemdTarget({ unitDirs: [dir] });
  try {
    const c = await Client.connect(sd.busAddress, now);
    try {
      await c.subscribeJobs();
      const { t0, removed } = await c.job('StartUnit', MANY_TARGET, 180_000);
      if (removed.result !== 'done') throw new Error(`systemd: start ${MANY_TARGET}: ${removed.result}`);
      const loadMs = removed.at - t0;
      await sleep(300);
      const q = await queryLatencies(c, sizes, sizes.manyUnits);
      return { ...q, rssMiB: rssKiB(sd.pid) / 1024, loadMs };
    } finally {
      c.disconnect();
    }
  } finally {
    await sd.stop();
  }
}

export async function manyUnits(sizes: Sizes, cpuProfDir?: string, withSystemd = true): Promise<Row[]> {
  const dir = writeManyUnits(sizes.manyUnits);
  const startup: number[] = [];
  const rss: number[] = [];
  let last: { t: UnitdTarget; c: Client } | null = null;
  try {
    for (let i = 0; i < sizes.startups; i++) {
      const t = await startUnitdTarget({ unitDirs: [dir], cpuProfDir: i === sizes.startups - 1 ? cpuProfDir : undefined });
      startup.push(t.startupMs);
      await sleep(300);
      rss.push(rssKiB(t.pid) / 1024);
      if (i < sizes.startups - 1) await t.stop();
      else last = { t, c: await Client.connect(t.busAddress, now) };
    }
    const { t, c } = last!;
    const q = await queryLatencies(c, sizes, sizes.manyUnits);
    const rssAfter = rssKiB(t.pid) / 1024;
    c.disconnect();
    await t.stop();
    last = null;
    const sd = withSystemd ? await manyUnitsSystemd(dir, sizes) : null;
    const st = summarize(startup);
    log(`many units: start-up ${st.median.toFixed(0)} ms, RSS ${summarize(rss).median.toFixed(1)} MiB, ListUnits ${q.list.median.toFixed(2)} ms` +
      (sd ? `; systemd: ListUnits ${sd.list.median.toFixed(2)} ms, GetAll ${sd.getAll.median.toFixed(2)} ms, RSS ${sd.rssMiB.toFixed(1)} MiB` : ''));
    const rows: Row[] = [
      { id: '5.startup', what: `${sizes.manyUnits} enabled units: spawn → "ready"`, unit: 'ms', unitd: round(st.median), baseline: null, baselineName: '', ratio: null, target: '≤ 1000 ms', pass: st.median <= 1000, detail: { startup: st, loaded: q.loaded } },
      ratioRow({ id: '5.rss', what: `${sizes.manyUnits} units: RSS after ready`, unit: 'MiB', unitd: summarize(rss).median, baseline: sd ? sd.rssMiB : null, baselineName: `systemd 252 --user with the same ${sizes.manyUnits} units active`, target: '≤ 150 MiB' }, null),
      { id: '5.rss.queried', what: `${sizes.manyUnits} units: RSS after the ListUnits/GetAll queries`, unit: 'MiB', unitd: round(rssAfter, 1), baseline: null, baselineName: '', ratio: null, target: '≤ 150 MiB', pass: rssAfter <= 150 },
      ratioRow({ id: '5.listunits', what: `ListUnits (${q.loaded} units) vs Peer.Ping`, unit: 'ms', unitd: q.list.median, baseline: q.ping.median, baselineName: 'unitd Peer.Ping', target: '≤ 50 ms', detail: { unitd: q, systemd: sd } }, null),
      ratioRow({ id: '5.getall', what: 'GetAll("") on one unit vs Peer.Ping', unit: 'ms', unitd: q.getAll.median, baseline: q.ping.median, baselineName: 'unitd Peer.Ping', target: 'context' }, null),
    ];
    rows[1]!.pass = rows[1]!.unitd <= 150;
    rows[3]!.pass = rows[3]!.unitd <= 50;
    if (sd) {
      rows.push(ratioRow({ id: '5.listunits.systemd', what: `ListUnits vs systemd 252 (${sd.loaded} units)`, unit: 'ms', unitd: q.list.median, baseline: sd.list.median, baselineName: 'systemd 252 --user, same units, same run', target: 'context' }, null));
      rows.push(ratioRow({ id: '5.getall.systemd', what: 'GetAll("") on one unit vs systemd 252', unit: 'ms', unitd: q.getAll.median, baseline: sd.getAll.median, baselineName: 'systemd 252 --user, same units, same run', target: 'context' }, null));
    }
    return rows;
  } finally {
    await last?.t.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 7. large unit files: LoadUnit of a file of many lines, and of a value with many specifiers

/** LoadUnit round trip: the unit file is read, parsed and applied in it (the unit is new) */
async function timedLoad(s: Session, unit: string): Promise<number> {
  const t0 = now();
  const [path] = await s.client.manager('LoadUnit', 's', [unit]);
  const ms = now() - t0;
  const state = await s.client.getProperty(path as string, 'org.freedesktop.systemd1.Unit', 'LoadState');
  if (state !== 'loaded') throw new Error(`${s.target.name}: ${unit} is ${String(state)}`);
  return ms;
}

export async function parseLoad(sessions: Session[], sizes: Sizes, fileBytes: Record<string, number>): Promise<Row[]> {
  const lines: Record<string, number[]> = {};
  const specs: Record<string, number[]> = {};
  for (let rep = 0; rep < sizes.parseReps; rep++) {
    for (const s of rep % 2 === 0 ? sessions : [...sessions].reverse()) {
      if (s.target.name !== 'systemd' || rep < sizes.parseSystemdLineReps) (lines[s.target.name] ??= []).push(await timedLoad(s, parseLinesUnit(rep)));
      (specs[s.target.name] ??= []).push(await timedLoad(s, parseSpecifiersUnit(rep)));
    }
  }
  const rows: Row[] = [];
  const kinds = [
    { id: '7.lines', samples: lines, what: `LoadUnit, a unit file of ${sizes.parseLines} Environment= lines (${fileBytes[parseLinesUnit(0)]} bytes)` },
    { id: '7.specifiers', samples: specs, what: `LoadUnit, Description= of ${sizes.parseSpecifiers} %n (${fileBytes[parseSpecifiersUnit(0)]} bytes)` },
  ];
  for (const k of kinds) {
    const u = summarize(k.samples.unitd!);
    const sd = k.samples.systemd ? summarize(k.samples.systemd) : null;
    log(`${k.id}: unitd ${u.median.toFixed(1)} ms${sd ? `, systemd ${sd.median.toFixed(1)} ms` : ''}`);
    // unitd answers nothing else while it parses: the round trip bounds that pause
    const row = ratioRow({ id: k.id, what: k.what, unit: 'ms', unitd: u.median, baseline: sd?.median ?? null, baselineName: 'systemd 252 --user, same file, same run', target: '≤ 2000 ms', detail: { unitd: u, systemd: sd, samples: k.samples } }, null);
    row.pass = u.median <= 2000;
    rows.push(row);
    if (k.samples['unitd-b']) rows.push(ratioRow({ id: `${k.id}.ab`, what: `A/B: ${k.what}, unitd-b vs unitd`, unit: 'ms', unitd: summarize(k.samples['unitd-b']).median, baseline: u.median, baselineName: 'unitd (A)', target: 'A/B' }, null));
  }
  if (sizes.parseMax) {
    const s = sessions.find((x) => x.target.name === 'unitd')!;
    const ms = await timedLoad(s, parseMaxUnit);
    log(`7.max: unitd ${ms.toFixed(0)} ms`);
    rows.push({
      id: '7.max', what: `LoadUnit, a unit file of READ_FULL_BYTES_MAX (${fileBytes[parseMaxUnit]} bytes of After= lines naming 100k units)`, unit: 'ms', unitd: round(ms),
      baseline: null, baselineName: 'absolute (systemd 252 takes 19 s for 100k After= lines: not run)', ratio: null, target: 'context: the longest a unit file keeps unitd from answering', pass: null,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 6. throughput: 64 calls in flight from 4 clients

async function pipelined(clients: Client[], inFlightPerClient: number, total: number, op: (c: Client) => Promise<unknown>): Promise<{ perSec: number; errors: number; ms: number }> {
  let issued = 0;
  let errors = 0;
  const t0 = now();
  const worker = async (c: Client): Promise<void> => {
    while (issued < total) {
      issued++;
      try {
        await op(c);
      } catch {
        errors++;
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (const c of clients) for (let i = 0; i < inFlightPerClient; i++) workers.push(worker(c));
  await Promise.all(workers);
  const ms = now() - t0;
  return { perSec: (total / ms) * 1000, errors, ms };
}

export async function throughput(unitd: UnitdTarget, sizes: Sizes): Promise<Row[]> {
  const clients = await Promise.all([0, 1, 2, 3].map(() => Client.connect(unitd.busAddress, now)));
  try {
    await clients[0]!.subscribeJobs();
    await clients[0]!.job('StartUnit', KILL_UNIT);
    const kill = (c: Client): Promise<unknown> => c.manager('KillUnit', 'ssi', [KILL_UNIT, 'main', 18]);
    await pipelined(clients, 16, 5000, kill); // warm-up
    await pipelined(clients, 16, 5000, (c) => c.ping());
    const rss0 = rssKiB(unitd.pid) / 1024;
    const cpu0 = cpuMs(unitd.pid);
    const ping = await pipelined(clients, 16, sizes.throughputCalls, (c) => c.ping());
    const cpu1 = cpuMs(unitd.pid);
    const k = await pipelined(clients, 16, sizes.throughputCalls, kill);
    const cpu2 = cpuMs(unitd.pid);
    const rss1 = rssKiB(unitd.pid) / 1024;
    const k2 = await pipelined(clients, 16, sizes.throughputCalls, kill);
    const rss2 = rssKiB(unitd.pid) / 1024;
    // Ping only: does RSS keep growing without KillUnit? (the bus layer vs the kill path)
    await pipelined(clients, 16, sizes.throughputCalls, (c) => c.ping());
    const rss3 = rssKiB(unitd.pid) / 1024;
    await clients[0]!.job('StopUnit', KILL_UNIT);
    log(`throughput: KillUnit ${k.perSec.toFixed(0)}/s (${k.errors} errors), Ping ${ping.perSec.toFixed(0)}/s, RSS ${rss0.toFixed(1)} → ${rss1.toFixed(1)} → ${rss2.toFixed(1)} MiB`);
    const row = ratioRow({
      id: '6.throughput', what: 'KillUnit calls/s, 64 in flight from 4 clients, vs Peer.Ping the same way', unit: 'calls/s', unitd: k.perSec,
      baseline: ping.perSec, baselineName: 'unitd Peer.Ping, same clients', target: '≥ 10000/s, 0 errors',
      detail: { kill: k, kill2: k2, ping, unitdCpuMsPerCall: { ping: (cpu1 - cpu0) / sizes.throughputCalls, kill: (cpu2 - cpu1) / sizes.throughputCalls } },
    }, null);
    row.pass = k.perSec >= 10_000 && k.errors === 0 && k2.errors === 0;
    return [
      row,
      // the first batch grows the heap to its working size; a leak shows as growth from batch 1 to 2
      { id: '6.rss', what: `RSS after ${2 * sizes.throughputCalls} vs after ${sizes.throughputCalls} KillUnit calls (before: ${rss0.toFixed(1)} MiB)`, unit: 'MiB', unitd: round(rss2, 1), baseline: round(rss1, 1), baselineName: `after ${sizes.throughputCalls} calls`, ratio: round(rss2 / rss1, 3), target: sizes.full ? 'no growth beyond noise (≤ 1.1×)' : 'judged in the full run only', pass: sizes.full ? rss2 / rss1 <= 1.1 : null, detail: { rss0, rss1, rss2, rssAfterAsManyPings: rss3 } },
    ];
  } finally {
    for (const c of clients) c.disconnect();
  }
}

export { MANAGER_PATH };
