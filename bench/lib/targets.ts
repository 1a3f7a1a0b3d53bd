// The two service managers under test, behind one interface: unitd (dist/cli/main.js on a private
// dbus-daemon, inside a cgroup of its own that the bench kills at the end) and real systemd 252
// (`systemd --user` in a mount namespace: test/oracle/oracle.ts). The bench's client reaches both
// through a dbus-daemon, so both pay the same bus hop.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startPrivateBus, type PrivateBus } from '../../test/helpers/private-bus.js';
import { startOracle, oracleAvailable, oracleUnavailableReason, type Oracle } from '../../test/oracle/oracle.js';
import { now, sleep } from './stats.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/dist-bench\/$/, '');
/** the unitd under test; UNITD_BENCH_MAIN points the bench at another build (A/B experiments) */
export const UNITD_MAIN = process.env.UNITD_BENCH_MAIN || join(REPO_ROOT, 'dist/cli/main.js');

// ---------------------------------------------------------------------------------------------
// cgroups

export function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre && post?.startsWith('cgroup2 ')) return pre.split(' ')[4]!;
  }
  throw new Error('no cgroup2 mount');
}

export function ownCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3) : '/';
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** PIDs in a cgroup and all its descendants */
export function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string): void => {
    try {
      for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) out.push(Number(l));
    } catch {
      return;
    }
    for (const s of subdirs(d)) walk(s);
  };
  walk(dir);
  return out;
}

/** "populated" of cgroup.events; false when the cgroup is gone */
export function cgroupPopulated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** kill everything in a cgroup subtree and remove it (children first) */
export async function destroyCgroup(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (let i = 0; i < 100 && cgroupPids(dir).length > 0; i++) {
    try {
      writeFileSync(join(dir, 'cgroup.kill'), '1');
    } catch {
      for (const p of cgroupPids(dir)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await sleep(50);
  }
  const rm = (d: string): void => {
    for (const s of subdirs(d)) rm(s);
    try {
      rmdirSync(d);
    } catch {
      /* busy: left for the next attempt */
    }
  };
  for (let i = 0; i < 40 && existsSync(dir); i++) {
    rm(dir);
    if (existsSync(dir)) await sleep(50);
  }
}

/** why the bench cannot run here (root and a writable cgroup2 are needed), '' when it can */
export function benchUnavailable(): string {
  if (process.getuid?.() !== 0) return 'needs root (cgroups, the systemd oracle)';
  try {
    const probe = join(cgroup2Mount(), ownCgroup(), `unitd-bench-probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
  } catch (e) {
    return `needs a writable cgroup2 hierarchy (${(e as Error).message})`;
  }
  if (!existsSync(UNITD_MAIN)) return `${UNITD_MAIN} missing: run npm run build`;
  return '';
}

export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** user+system CPU time of a process in ms (from /proc/PID/stat) */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

// ---------------------------------------------------------------------------------------------
// targets

export interface Target {
  /** 'unitd', 'systemd', or 'unitd-b' (a second build under --ab) */
  readonly name: string;
  readonly busAddress: string;
  /** the manager's PID */
  readonly pid: number;
  /** absolute cgroup2 directory of a unit, from its ControlGroup property */
  unitCgroupDir(controlGroup: string): string;
  stop(): Promise<void>;
}

export interface UnitdTarget extends Target {
  /** ms from spawn to the "ready" log line */
  readonly startupMs: number;
  readonly child: ChildProcess;
  /** unitd's log (pino JSON lines); kept until stop() */
  readLog(): string;
}

export interface UnitdOptions {
  unitDirs: string[];
  logLevel?: string;
  /** run node with --cpu-prof, writing the profile to this directory on exit */
  cpuProfDir?: string;
  /** the entry point to run (default UNITD_MAIN) and the target's name (default 'unitd') */
  main?: string;
  name?: string;
  /** reuse a bus instead of starting a private dbus-daemon */
  bus?: PrivateBus;
}

export async function startUnitdTarget(opts: UnitdOptions): Promise<UnitdTarget> {
  const main = opts.main ?? UNITD_MAIN;
  if (!existsSync(main)) throw new Error(`${main} missing: run npm run build`);
  const bus = opts.bus ?? (await startPrivateBus());
  const cg = join(cgroup2Mount(), ownCgroup(), `unitd-bench-${randomBytes(4).toString('hex')}`);
  mkdirSync(cg);
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const args = [...nodeArgs, main, '--bus-address', bus.address, '--log-level', opts.logLevel ?? 'info', '--tracker', 'cgroup2'];
  for (const d of opts.unitDirs) args.push('--unit-path', d);
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const t0 = now();
  // sh joins the cgroup, then becomes node: one PID, and unitd's own cgroup is the bench's
  // unitd logs to a file, as under a service manager: a pipe would make the bench (the client)
  // read every log line and wake for each, which is the bench's cost, not unitd's
  const logDir = mkdtempSync(join(tmpdir(), 'unitd-bench-log-'));
  const logFile = join(logDir, 'unitd.log');
  const logFd = openSync(logFile, 'w');
  const child = spawn('sh', ['-c', `echo $$ > ${q(join(cg, 'cgroup.procs'))} && exec ${q(process.execPath)} ${args.map(q).join(' ')}`], {
    stdio: ['ignore', logFd, 'pipe'],
  });
  closeSync(logFd);
  const tail = (): string => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  };
  let stderr = '';
  const startupMs = await new Promise<number>((resolve, reject) => {
    // the banner on stderr follows the "ready" log line in the same turn (at any log level)
    const timer = setTimeout(() => reject(new Error(`unitd not ready in 30 s: ${stderr}\n${tail()}`)), 30_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('unitd is ready')) {
        clearTimeout(timer);
        resolve(now() - t0);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`unitd exited ${code}: ${stderr}\n${tail()}`));
    });
  }).catch(async (e: unknown) => {
    await destroyCgroup(cg);
    if (!opts.bus) await bus.stop();
    rmSync(logDir, { recursive: true, force: true });
    throw e;
  });
  child.removeAllListeners('exit');
  const mount = cgroup2Mount();
  const pid = child.pid!;
  let stopped = false;
  let finalLog: string | null = null;
  return {
    name: opts.name ?? 'unitd',
    busAddress: bus.address,
    pid,
    startupMs,
    child,
    readLog: () => {
      if (finalLog !== null) return finalLog;
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    unitCgroupDir: (controlGroup) => join(mount, controlGroup),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // SIGTERM by PID (a clean exit writes the CPU profile), SIGKILL after 10 s, then the cgroup
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await destroyCgroup(cg);
      if (!opts.bus) await bus.stop();
      try {
        finalLog = readFileSync(logFile, 'utf8'); // complete now: unitd flushed its log on exit
      } catch {
        finalLog = '';
      }
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

export interface SystemdTarget extends Target {
  readonly oracle: Oracle;
}

export function systemdAvailable(): { ok: boolean; reason: string } {
  return { ok: oracleAvailable(), reason: oracleUnavailableReason() };
}

export async function startSystemdTarget(opts: { unitDirs: string[]; logLevel?: string }): Promise<SystemdTarget> {
  const oracle = await startOracle({ unitDirs: opts.unitDirs, bus: true, logLevel: opts.logLevel ?? 'info' });
  const mount = cgroup2Mount();
  return {
    name: 'systemd',
    busAddress: oracle.env.DBUS_SESSION_BUS_ADDRESS!,
    pid: oracle.managerPid,
    oracle,
    unitCgroupDir: (controlGroup) => join(mount, controlGroup),
    stop: () => oracle.stop(),
  };
}
