// The job queue: turns a request ("start foo in mode replace") into an installed job after
// systemd's checks, merges or replaces a unit's existing job, runs jobs on a later tick through
// the unit's driver, and reports every job's end. At most one job per unit, as in systemd.
import { EventEmitter } from 'node:events';
import type { Unit } from '../units/unit.js';
import { USEC_INFINITY } from '../units/types.js';
import { Job, JOB_MODES, type JobMode, type JobResult, type JobType } from './job.js';

/** A refused request, with the D-Bus error systemd answers (names are systemd's, see LoadError). */
export class JobRequestError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

const SD = 'org.freedesktop.systemd1.';
const INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs';

/** Carries out jobs on units; the service state machine implements it. */
export interface UnitDriver {
  /** performs the job's action; resolves with the job's result once the unit got there (or failed) */
  run(job: Job): Promise<JobResult>;
  canReload(unit: Unit): boolean;
}

function activeOrActivating(unit: Unit): boolean {
  return unit.activeState === 'active' || unit.activeState === 'reloading' || unit.activeState === 'activating';
}

/** job_type_collapse: the type a request becomes given the unit's state now. */
export function collapseJobType(type: JobType, unit: Unit): JobType {
  switch (type) {
    case 'try-restart':
      return activeOrActivating(unit) ? 'restart' : 'nop';
    case 'try-reload':
      return activeOrActivating(unit) ? 'reload' : 'nop';
    case 'reload-or-start':
      return activeOrActivating(unit) ? 'reload' : 'start';
    default:
      return type;
  }
}

function conflicting(a: JobType, b: JobType): boolean {
  return (a === 'stop') !== (b === 'stop');
}

/** What two compatible jobs of one unit merge into, or null when they do not merge. */
function mergeTypes(a: JobType, b: JobType): JobType | null {
  if (a === b) return a;
  const pair = new Set([a, b]);
  const only = (...types: JobType[]) => [...pair].every((t) => types.includes(t));
  if (only('start', 'verify-active')) return 'start';
  if (only('start', 'reload', 'verify-active', 'reload-or-start')) return 'reload-or-start';
  if (only('restart', 'start', 'verify-active', 'reload', 'reload-or-start')) return 'restart';
  if (pair.has('nop')) return a === 'nop' ? b : a;
  return null;
}

export interface JobQueueEvents {
  /** a job was installed: its JobNew goes out after the reply that returns its path */
  new: [Job];
  /** a job ended and left the queue */
  removed: [Job];
}

export class JobQueue extends EventEmitter<JobQueueEvents> {
  private nextId = 1;
  private readonly jobs = new Map<number, Job>();

  constructor(private readonly driverOf: (unit: Unit) => UnitDriver) {
    super();
  }

  get(id: number): Job | undefined {
    return this.jobs.get(id);
  }

  list(): Job[] {
    return [...this.jobs.values()];
  }

  /** Checks a request as systemd does and installs its job; returns the job that stands for it. */
  enqueue(unit: Unit, requested: JobType, modeName: string, requester: string | null): Job {
    if (!(JOB_MODES as readonly string[]).includes(modeName)) throw new JobRequestError(INVALID_ARGS, `Job mode ${modeName} invalid`);
    const mode = modeName as JobMode;
    const driver = this.driverOf(unit);
    let type = requested;
    const cfg = unit.config;

    if (type === 'stop' && ['not-found', 'error', 'bad-setting'].includes(cfg.loadState) && unit.activeState === 'inactive') {
      throw new JobRequestError(SD + 'NoSuchUnit', `Unit ${unit.id} not loaded.`);
    }
    const refusesStart = cfg.unit.refuseManualStart;
    const refusesStop = cfg.unit.refuseManualStop;
    if (
      (type === 'start' && refusesStart) ||
      (type === 'stop' && refusesStop) ||
      ((type === 'restart' || type === 'try-restart') && (refusesStart || refusesStop)) ||
      (type === 'reload-or-start' && collapseJobType(type, unit) === 'start' && refusesStart)
    ) {
      throw new JobRequestError(
        SD + 'OnlyByDependency',
        `Operation refused, unit ${unit.id} may be requested by dependency only (it is configured to refuse manual start/stop).`,
      );
    }
    if (mode === 'isolate' && type !== 'start') throw new JobRequestError(INVALID_ARGS, 'Isolate is only valid for start.');
    if (mode === 'isolate' && !cfg.unit.allowIsolate) throw new JobRequestError(SD + 'NoIsolation', 'Operation refused, unit may not be isolated.');
    if (mode === 'triggering' && type !== 'stop') throw new JobRequestError(INVALID_ARGS, '--job-mode=triggering is only valid for stop.');

    type = collapseJobType(type, unit);
    if (type !== 'stop' && cfg.loadState !== 'loaded') {
      const err = cfg.loadError ?? { name: SD + 'NoSuchUnit', message: `Unexpected load state of unit ${unit.id}` };
      throw new JobRequestError(err.name, err.message);
    }
    if ((type === 'reload' || type === 'try-reload') && !driver.canReload(unit)) {
      throw new JobRequestError(SD + 'JobTypeNotApplicable', `Job type ${type} is not applicable for unit ${unit.id}.`);
    }

    const existing = this.jobOf(unit);
    if (existing) {
      if (conflicting(existing.type, type)) {
        if (mode === 'fail' || existing.irreversible) {
          throw new JobRequestError(
            SD + 'TransactionIsDestructive',
            `Transaction for ${unit.id}/${type} is destructive (${unit.id} has '${existing.type}' job queued, but '${type}' is included in transaction).`,
          );
        }
        this.finish(existing, 'canceled');
      } else {
        const merged = mergeTypes(existing.type, type);
        if (merged) {
          existing.type = merged;
          this.updateUnitJob(existing);
          return existing;
        }
        if (mode === 'fail') {
          throw new JobRequestError(
            SD + 'TransactionIsDestructive',
            `Transaction for ${unit.id}/${type} is destructive (${unit.id} has '${existing.type}' job queued, but '${type}' is included in transaction).`,
          );
        }
        this.finish(existing, 'canceled');
      }
    }
    if (mode === 'flush') for (const other of this.list()) if (other.unit !== unit) this.finish(other, 'canceled');

    const job = new Job(this.nextId++, unit, type, mode === 'replace-irreversibly', requester);
    this.jobs.set(job.id, job);
    this.updateUnitJob(job);
    this.emit('new', job);
    // jobs run on a later turn of the event loop: the caller's reply goes out first
    setImmediate(() => this.run(job, driver));
    return job;
  }

  private jobOf(unit: Unit): Job | undefined {
    return unit.job ? this.jobs.get(unit.job.id) : undefined;
  }

  private updateUnitJob(job: Job): void {
    job.unit.job = { id: job.id, path: `/org/freedesktop/systemd1/job/${job.id}`, type: job.type };
    job.unit.changed();
  }

  private run(job: Job, driver: UnitDriver): void {
    if (job.finished) return;
    job.markRunning();
    const timeout = job.unit.config.unit.jobTimeoutUSec;
    const timer =
      timeout !== USEC_INFINITY && timeout > 0n ? setTimeout(() => this.finish(job, 'timeout'), Number(timeout / 1000n)) : null;
    driver.run(job).then(
      (result) => {
        if (timer) clearTimeout(timer);
        this.finish(job, result);
      },
      () => {
        if (timer) clearTimeout(timer);
        this.finish(job, 'failed');
      },
    );
  }

  /** A restart job's stop phase is over: it now stands for starting the unit. */
  becomeStart(job: Job): void {
    job.type = 'start';
    job.restartPhase = 'start';
    this.updateUnitJob(job);
  }

  cancel(id: number): boolean {
    const job = this.jobs.get(id);
    if (!job) return false;
    this.finish(job, 'canceled');
    return true;
  }

  clear(): void {
    for (const job of this.list()) this.finish(job, 'canceled');
  }

  private finish(job: Job, result: JobResult): void {
    if (job.finished) return;
    this.jobs.delete(job.id);
    if (job.unit.job?.id === job.id) {
      job.unit.job = null;
      job.unit.changed();
    }
    job.finish(result);
    this.emit('removed', job);
  }
}
