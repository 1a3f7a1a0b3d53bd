// The kernel floor of scenario 2: the processes of a bench stop unit (the same command, locale and
// environment), started by the bench itself in a cgroup of its own, and ended by the bench as a
// manager would end them, with no bus, no job and no unit around it. Two ways, timed from the
// first write or signal until cgroup.events says "populated 0":
//   - 'signal': cgroup.procs read, SIGTERM + SIGCONT to each PID (what systemd 252 does);
//   - 'freeze': the group frozen first (until cgroup.events says "frozen 1"), then the same, then
//     thawed (what unitd does, so that no process acts before all have their signal).
// The bench is a child subreaper for its whole run (run.ts starts unitd's own reaper in it), so the
// orphans are reaped by the bench as they are by a manager, and none is left to whoever is PID 1.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cgroup2Mount, cgroupPids, destroyCgroup, ownCgroup } from './targets.js';
import { BENCH_ENVIRONMENT, stopCommand } from './units.js';
import { now, sleep } from './stats.js';

export type FloorMethod = 'signal' | 'freeze';
export const floorName = (m: FloorMethod): string => `floor (${m})`;

const newCgroupDir = (): string => join(cgroup2Mount(), ownCgroup(), `unitd-bench-floor-${randomBytes(4).toString('hex')}`);

/** the ways this machine can do: 'freeze' needs the cgroup v2 freezer (Linux 5.2) */
export function floorMethods(): FloorMethod[] {
  const probe = newCgroupDir();
  mkdirSync(probe);
  try {
    return existsSync(join(probe, 'cgroup.freeze')) ? ['signal', 'freeze'] : ['signal'];
  } finally {
    rmdirSync(probe);
  }
}

const SIGTERM = 15;
const SIGCONT = 18;

function events(dir: string): string {
  try {
    return readFileSync(join(dir, 'cgroup.events'), 'utf8');
  } catch {
    return 'populated 0\nfrozen 0\n';
  }
}

/**
 * Resolves once cgroup.events matches: inotify on the file, and a re-read every 2 ms meanwhile (the
 * kernel sends at most one notification per file every 10 ms, and a floor should not wait for it).
 */
function until(dir: string, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (pattern.test(events(dir))) return resolve();
    const watcher = watch(join(dir, 'cgroup.events'), check);
    const poll = setInterval(check, 2);
    const timer = setTimeout(() => finish(new Error(`${dir}: ${pattern} not seen in ${timeoutMs} ms`)), timeoutMs);
    function check(): void {
      if (pattern.test(events(dir))) finish(null);
    }
    function finish(err: Error | null): void {
      watcher.close();
      clearInterval(poll);
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    }
  });
}

function signalAll(dir: string): void {
  for (const pid of cgroupPids(dir)) {
    try {
      process.kill(pid, SIGTERM);
      process.kill(pid, SIGCONT);
    } catch {
      /* gone already */
    }
  }
}

/**
 * One stop of n processes by the bench itself; returns the milliseconds until the cgroup was
 * empty. The cgroup is removed afterwards.
 */
export async function floorStop(n: number, method: FloorMethod): Promise<number> {
  const dir = newCgroupDir();
  mkdirSync(dir);
  try {
    // the shell moves itself into the cgroup first, so every process it forks is born there
    const child = spawn('/bin/sh', ['-c', `echo $$ > ${join(dir, 'cgroup.procs')} && ${stopCommand(n)}`], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...BENCH_ENVIRONMENT },
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = now() + 60_000;
    while (cgroupPids(dir).length < n) {
      if (now() > deadline) throw new Error(`floor: ${n} processes not up in ${dir}`);
      await sleep(10);
    }
    await sleep(50); // as stopOnce does before its StopUnit
    const t0 = now();
    if (method === 'freeze') {
      writeFileSync(join(dir, 'cgroup.freeze'), '1');
      await until(dir, /^frozen 1$/m);
      signalAll(dir);
      writeFileSync(join(dir, 'cgroup.freeze'), '0');
    } else {
      signalAll(dir);
    }
    await until(dir, /^populated 0$/m);
    const ms = now() - t0;
    await exited;
    return ms;
  } finally {
    await destroyCgroup(dir);
  }
}
