// The manager: the loaded units, their jobs and service state machines, the process tracker,
// and what the manager reports about itself. Knows nothing of D-Bus.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { Job, type JobType } from './jobs/job.js';
import { JobQueue } from './jobs/job-queue.js';
import type { ProcessTracker } from './processes/types.js';
import { ServiceDriver } from './services/service-driver.js';
import type { KillRequest } from './signals/kill-request.js';
import { SignalScheduler } from './signals/signal-scheduler.js';
import { now, NO_TIMESTAMP, type DualTimestamp } from './util/clock.js';
import { ROOT_SLICE, UnitRegistry, type UnitSource } from './units/unit-registry.js';
import type { Unit } from './units/unit.js';
import { USEC_INFINITY } from './units/types.js';

export type Scope = 'system' | 'user';
export type SystemState = 'initializing' | 'starting' | 'running' | 'degraded' | 'maintenance' | 'stopping';

/** One process of a unit as GetUnitProcesses reports it. */
export interface UnitProcess {
  cgroup: string;
  pid: number;
  command: string;
}

export interface ManagerOptions {
  scope: Scope;
  unitPath: string[];
  source: UnitSource;
  isValidUnitName: (name: string) => boolean;
  tracker: ProcessTracker;
  log: Logger;
}

export interface ManagerEvents {
  reloading: [boolean];
}

/** /proc/PID/cmdline as systemd shows it: arguments quoted when needed, [comm] for kernel threads. */
function commandLine(pid: number): string {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const args = raw.split('\0').filter((a, i, all) => !(a === '' && i === all.length - 1));
    if (args.length > 0) return args.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/(["\\$`])/g, '\\$1')}"`)).join(' ');
  } catch {
    // gone
  }
  try {
    return `[${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return '';
  }
}

function cgroupOf(pid: number): string {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
    return line ? line.slice(3) : '';
  } catch {
    return '';
  }
}

export class Manager extends EventEmitter<ManagerEvents> {
  readonly scope: Scope;
  readonly unitPath: string[];
  readonly units: UnitRegistry;
  readonly jobs: JobQueue;
  readonly driver: ServiceDriver;
  readonly tracker: ProcessTracker;
  readonly scheduler: SignalScheduler;
  readonly userspaceTimestamp: DualTimestamp = now();
  finishTimestamp: DualTimestamp = NO_TIMESTAMP;
  /**
   * Processes no unit may take as its main process, with what they are: unitd itself and PID 1
   * (service_is_suitable_main_pid: "is the manager"), and the bus daemon unitd started, if any.
   * Signalling any of them on a unit's behalf would take the manager down with it.
   */
  readonly ownProcesses = new Map<number, string>([
    [process.pid, 'the manager'],
    [1, 'the manager'],
  ]);
  private stopping = false;
  private readonly log: Logger;

  constructor(opts: ManagerOptions) {
    super();
    this.scope = opts.scope;
    this.unitPath = opts.unitPath;
    this.tracker = opts.tracker;
    this.log = opts.log;
    this.units = new UnitRegistry(opts.source, opts.isValidUnitName, (unit) => this.keepsUnit(unit));
    this.scheduler = new SignalScheduler(opts.tracker, opts.log);
    this.driver = new ServiceDriver({
      tracker: opts.tracker,
      scheduler: this.scheduler,
      log: opts.log,
      scope: opts.scope,
      requestAutoRestart: (unit) => this.autoRestart(unit),
      unitOfPid: (pid) => this.unitOfPid(pid)?.id,
      managerProcess: (pid) => this.ownProcesses.get(pid) ?? null,
    });
    this.jobs = new JobQueue(() => this.driver);
    this.driver.queue = this.jobs;
    this.jobs.on('new', (job) => this.log.info({ unit: job.unit.id, job: job.id, type: job.type }, 'job queued'));
    this.jobs.on('removed', (job) => {
      this.log.info({ unit: job.unit.id, job: job.id, type: job.type, result: job.result }, 'job finished');
      this.units.scheduleGc();
    });
  }

  /** A unit with processes left (KillMode=process leftovers) stays loaded, as in systemd. */
  private keepsUnit(unit: Unit): boolean {
    if (unit.id === ROOT_SLICE) return true;
    return unit.controlGroup !== '' || unit.mainPID !== 0 || unit.controlPID !== 0;
  }

  /** Loads the units of the search path; the manager is running from here on. */
  start(): void {
    const root = this.units.load(ROOT_SLICE);
    this.units.pin(root);
    if (!root.config.unit.description) root.config.unit.description = 'Root Slice';
    root.controlGroup = this.tracker.rootPath;
    root.setState('active', 'active');
    this.units.loadAll();
    this.finishTimestamp = now();
  }

  reload(): void {
    this.emit('reloading', true);
    try {
      this.units.reload();
    } finally {
      this.emit('reloading', false);
    }
  }

  enqueue(unit: Unit, type: JobType, mode: string, requester: string | null): Job {
    return this.jobs.enqueue(unit, type, mode, requester);
  }

  private autoRestart(unit: Unit): void {
    const rt = this.driver.runtime(unit);
    if (unit.job) {
      rt?.start();
      return;
    }
    try {
      this.enqueue(unit, 'restart', 'replace', null);
    } catch (err) {
      this.log.warn({ unit: unit.id, err }, 'automatic restart refused');
    }
  }

  async kill(unit: Unit, req: KillRequest): Promise<void> {
    const rt = this.driver.runtime(unit);
    if (rt) return rt.kill(req);
    await this.scheduler.killForClient(req, { unitId: unit.id, main: null, control: null, group: null });
  }

  resetFailed(unit: Unit): void {
    const rt = this.driver.runtime(unit);
    if (rt) rt.resetFailed();
    else if (unit.activeState === 'failed') unit.setState('inactive', 'dead');
    this.units.scheduleGc();
  }

  /** The unit a process belongs to: by its group, or as a unit's main/control process. */
  unitOfPid(pid: number): Unit | undefined {
    if (pid <= 0) return undefined;
    const byPid = this.units.units().find((u) => u.mainPID === pid || u.controlPID === pid);
    if (byPid) return byPid;
    const id = this.tracker.unitOfPid(pid);
    return id ? this.units.get(id) : undefined;
  }

  processesOf(unit: Unit): UnitProcess[] {
    if (unit.id === ROOT_SLICE) return this.units.units().filter((u) => u !== unit).flatMap((u) => this.processesOf(u));
    const seen = new Set<number>();
    const out: UnitProcess[] = [];
    const add = (pid: number): void => {
      if (pid <= 0 || seen.has(pid)) return;
      seen.add(pid);
      const command = commandLine(pid);
      if (command === '') return;
      out.push({ cgroup: cgroupOf(pid) || unit.controlGroup, pid, command });
    };
    if ((unit.controlGroup || this.tracker.kind === 'proc') && unit.config.service) {
      const group = this.tracker.group(unit.id);
      for (const pid of this.tracker.pids(group).sort((a, b) => a - b)) add(pid);
    }
    add(unit.mainPID);
    add(unit.controlPID);
    return out;
  }

  failedUnits(): Unit[] {
    return this.units.units().filter((u) => u.activeState === 'failed');
  }

  get systemState(): SystemState {
    if (this.stopping) return 'stopping';
    if (this.finishTimestamp === NO_TIMESTAMP) return 'starting';
    return this.failedUnits().length > 0 ? 'degraded' : 'running';
  }

  unitByInvocationId(id: Buffer): Unit | undefined {
    return this.units.units().find((u) => u.invocationId.length === 16 && u.invocationId.equals(id));
  }

  unitByControlGroup(cgroup: string): Unit | undefined {
    if (cgroup === '') return undefined;
    return this.units.units().find((u) => u.controlGroup === cgroup);
  }

  /**
   * unitd's own shutdown: every unit that is not inactive is stopped the way a stop job would, all
   * in parallel (each group frozen around its signal by the scheduler). unitd waits until all are
   * down, or until the longest TimeoutStopSec= has passed (plus half a second for the escalation
   * it triggers to land; no limit when one is infinity); then what is left of any unit gets SIGKILL
   * through its cgroup, so nothing outlives unitd unnoticed.
   */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.jobs.clear();
    const active = this.units.units().filter((u) => u.config.service && u.activeState !== 'inactive' && u.activeState !== 'failed');
    let longest = 0n;
    for (const unit of active) {
      const t = unit.config.service!.timeoutStopUSec;
      if (t > longest) longest = t;
    }
    const stops = active.map(async (unit) => {
      try {
        this.enqueue(unit, 'stop', 'replace-irreversibly', null);
      } catch (err) {
        this.log.warn({ unit: unit.id, err }, 'cannot stop at shutdown');
        return;
      }
      await new Promise<void>((resolve) => {
        const check = () => {
          if (unit.activeState === 'inactive' || unit.activeState === 'failed') {
            unit.off('state', check);
            resolve();
          }
        };
        unit.on('state', check);
        check();
      });
    });
    this.log.info({ units: active.length }, 'stopping all units');
    const all = Promise.all(stops);
    if (longest === USEC_INFINITY) {
      await all;
    } else {
      const done = await Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), Number(longest / 1000n) + 500).unref())]);
      if (!done) this.killLeftovers();
    }
    await this.tracker.close();
  }

  /** After the shutdown deadline: SIGKILL whatever is left in every unit's group. */
  private killLeftovers(): void {
    const left = this.units
      .units()
      .filter((u) => u.config.service && (u.controlGroup !== '' || this.tracker.kind === 'proc') && !this.tracker.isEmpty(this.tracker.group(u.id)));
    this.log.warn({ units: left.map((u) => u.id) }, 'stop timed out at shutdown, killing what is left');
    for (const unit of left) {
      const group = this.tracker.group(unit.id);
      if (this.tracker.canKillGroup) this.tracker.killGroup(group);
      else for (const pid of this.tracker.pids(group)) {
        const id = this.tracker.identify(pid);
        if (id) this.tracker.signal(id, 9);
      }
    }
  }
}
