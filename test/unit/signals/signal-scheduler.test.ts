// The signal scheduler against a real cgroup and real processes: a group of more than the main
// process is signalled while the cgroup is frozen (every send is checked against cgroup.events at
// the moment it is made), and a group of the main process alone is signalled without the freeze
// round trip. Processes are ended through the
// group (cgroup.kill) and the subtree removed.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { CgroupTracker } from '../../../src/processes/cgroup-tracker.js';
import { locateWritableCgroup2, readCgroupEvents } from '../../../src/processes/cgroup-fs.js';
import type { ProcessGroup, ProcessIdentity, SpawnRequest } from '../../../src/processes/types.js';
import { SignalScheduler } from '../../../src/signals/signal-scheduler.js';
import { parseKillRequest } from '../../../src/signals/kill-request.js';
import type { KillContext } from '../../../src/units/types.js';

const SIGTERM = 15;
const SIGKILL = 9;
const SIGCONT = 18;
const SIGUSR1 = 10;
const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin' };
const sh = (script: string): SpawnRequest => ({ path: '/bin/sh', argv: ['/bin/sh', '-c', script], env: ENV });

const KILL: KillContext = {
  killMode: 'control-group',
  killSignal: SIGTERM,
  restartKillSignal: 0,
  finalKillSignal: SIGKILL,
  sendSIGKILL: true,
  sendSIGHUP: false,
  watchdogSignal: 6,
};

async function waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Send {
  pid: number;
  signal: number;
  /** cgroup.freeze is 1: the group is held frozen */
  held: boolean;
  /** cgroup.events says frozen 1: every member is frozen (a member woken to die leaves that state) */
  frozen: boolean;
}

describe.runIf(locateWritableCgroup2() !== null)('signal scheduler on a real cgroup', () => {
  let tracker: CgroupTracker;
  let scheduler: SignalScheduler;
  let sends: Send[] = [];
  let freezes = 0;
  let watched: ProcessGroup | null = null;
  const realKill = process.kill.bind(process);
  let n = 0;

  const freezerNow = (): { held: boolean; frozen: boolean } => {
    if (!watched) return { held: false, frozen: false };
    const dir = tracker.dirOf(watched);
    return { held: readFileSync(join(dir, 'cgroup.freeze'), 'utf8').trim() === '1', frozen: readCgroupEvents(dir)?.frozen ?? false };
  };

  beforeAll(() => {
    tracker = new CgroupTracker();
    // observe every send (both paths: pidfd through the tracker, plain kill for a frozen group's
    // members) together with the cgroup's freezer state at that moment
    const realSignal = tracker.signal.bind(tracker);
    let viaTracker = false;
    tracker.signal = (p: ProcessIdentity, signal: number): boolean => {
      sends.push({ pid: p.pid, signal, ...freezerNow() });
      viaTracker = true; // the tracker may itself use process.kill: one send, recorded once
      try {
        return realSignal(p, signal);
      } finally {
        viaTracker = false;
      }
    };
    const realFreeze = tracker.freeze.bind(tracker);
    tracker.freeze = (g: ProcessGroup): Promise<void> => {
      freezes++;
      return realFreeze(g);
    };
    process.kill = ((pid: number, signal?: string | number): true => {
      if (watched && !viaTracker && typeof signal === 'number') sends.push({ pid, signal, ...freezerNow() });
      return realKill(pid, signal);
    }) as typeof process.kill;
    scheduler = new SignalScheduler(tracker, pino({ level: 'silent' }));
  });

  afterAll(async () => {
    process.kill = realKill;
    await tracker.close();
  });

  /** a main process with `children` sleeping children; returns the group and the main identity */
  async function unitWith(children: number): Promise<{ group: ProcessGroup; main: ProcessIdentity }> {
    const group = tracker.group(`sched-${process.pid}-${n++}.service`);
    const p = tracker.spawn(group, sh(`i=0; while [ $i -lt ${children} ]; do sleep 1000 & i=$((i+1)); done; exec sleep 1000`));
    await waitFor(() => tracker.pids(group).length === children + 1, `${children + 1} processes`);
    sends = [];
    freezes = 0;
    watched = group;
    return { group, main: p.identity };
  }

  async function end(group: ProcessGroup): Promise<void> {
    watched = null;
    tracker.killGroup(group);
    await tracker.whenEmpty(group);
    expect(tracker.remove(group)).toBe(true);
  }

  it('stop: a group of several processes gets KillSignal + SIGCONT, every one while frozen, then thawed', async () => {
    const { group, main } = await unitWith(5);
    const members = tracker.pids(group);
    const wait = await scheduler.killForStop('terminate', KILL, { unitId: group.unitId, main, control: null, group });
    expect(wait).toBe(true);
    expect(freezes).toBe(1);
    expect(sends.length).toBe(members.length * 2);
    // the whole group was frozen before the first signal, and held frozen until the last
    expect(sends[0]!.frozen).toBe(true);
    expect(sends.every((s) => s.held)).toBe(true);
    expect(new Set(sends.filter((s) => s.signal === SIGTERM).map((s) => s.pid))).toEqual(new Set(members));
    expect(new Set(sends.filter((s) => s.signal === SIGCONT).map((s) => s.pid))).toEqual(new Set(members));
    expect(readCgroupEvents(tracker.dirOf(group))?.frozen ?? false).toBe(false);
    await tracker.whenEmpty(group);
    await end(group);
  });

  it('stop: the main process alone is signalled without freezing the group', async () => {
    const { group, main } = await unitWith(0);
    await scheduler.killForStop('terminate', KILL, { unitId: group.unitId, main, control: null, group });
    expect(freezes).toBe(0);
    expect(sends.map((s) => [s.pid, s.signal])).toEqual([
      [main.pid, SIGTERM],
      [main.pid, SIGCONT],
    ]);
    await tracker.whenEmpty(group);
    await end(group);
  });

  it('kill all: exactly the asked signal, while frozen when there are other members, unfrozen for the main process alone', async () => {
    const req = parseKillRequest('all', SIGUSR1, null);
    const several = await unitWith(3);
    const members = tracker.pids(several.group);
    await scheduler.killForClient(req, { unitId: several.group.unitId, main: several.main, control: null, group: several.group });
    expect(freezes).toBe(1);
    // held frozen for every send, wholly frozen at the first
    expect(sends[0]!.frozen).toBe(true);
    expect(sends.every((s) => s.held && s.signal === SIGUSR1)).toBe(true);
    expect(sends.map((s) => s.pid).sort()).toEqual([...members].sort());
    await end(several.group);

    const alone = await unitWith(0);
    await scheduler.killForClient(req, { unitId: alone.group.unitId, main: alone.main, control: null, group: alone.group });
    expect(freezes).toBe(0);
    expect(sends).toEqual([{ pid: alone.main.pid, signal: SIGUSR1, held: false, frozen: false }]);
    await end(alone.group);
  });

  it('a child forked between the first read and the main signal is caught by the re-read, without a freeze', async () => {
    // The first listing is made to miss the child, as a read made just before the fork would.
    const { group, main } = await unitWith(1);
    const child = tracker.pids(group).find((pid) => pid !== main.pid)!;
    const realMembers = tracker.members.bind(tracker);
    let listings = 0;
    tracker.members = (g: ProcessGroup) => {
      const real = realMembers(g);
      return listings++ === 0 ? { pids: real.pids.filter((pid) => pid !== child), again: real.again } : real;
    };
    try {
      await scheduler.killForStop('terminate', KILL, { unitId: group.unitId, main, control: null, group });
    } finally {
      tracker.members = realMembers;
    }
    expect(freezes).toBe(0);
    expect(listings).toBe(1);
    expect(sends.map((s) => [s.pid, s.signal])).toEqual([
      [main.pid, SIGTERM],
      [main.pid, SIGCONT],
      [child, SIGTERM],
      [child, SIGCONT],
    ]);
    await tracker.whenEmpty(group);
    await end(group);
  });

  it('the re-read covers the child cgroups the first read found: a main process moved into one, and its fork there', async () => {
    const { group, main } = await unitWith(0);
    const sub = join(tracker.dirOf(group), 'sub');
    mkdirSync(sub);
    writeFileSync(join(sub, 'cgroup.procs'), String(main.pid));
    const listing = tracker.members(group);
    expect(listing.pids).toEqual([main.pid]);
    // a process born in the child cgroup after the first read
    const late = tracker.spawn(group, sh('exec sleep 1000'));
    writeFileSync(join(sub, 'cgroup.procs'), String(late.identity.pid));
    expect(listing.again().sort()).toEqual([main.pid, late.identity.pid].sort());
    watched = null;
    tracker.killGroup(group);
    await tracker.whenEmpty(group);
    rmdirSync(sub);
    expect(tracker.remove(group)).toBe(true);
  });
});
