// Carries out jobs on units: start, stop, restart, reload for services through their state
// machines, and the trivial cases for unit types unitd does not run (they just change state).
// A job ends by watching the unit's state, with systemd's rules (unit_process_job).
import type { Job, JobResult } from '../jobs/job.js';
import type { JobQueue, UnitDriver } from '../jobs/job-queue.js';
import type { ActiveState, Unit } from '../units/unit.js';
import { ServiceRuntime, type ServiceHost } from './service-runtime.js';

const isActive = (s: ActiveState) => s === 'active' || s === 'reloading';
const isInactive = (s: ActiveState) => s === 'inactive' || s === 'failed';

export class ServiceDriver implements UnitDriver {
  private readonly runtimes = new WeakMap<Unit, ServiceRuntime>();
  queue: JobQueue | null = null;

  constructor(private readonly host: ServiceHost) {}

  runtime(unit: Unit): ServiceRuntime | null {
    if (!unit.config.service) return null;
    let rt = this.runtimes.get(unit);
    if (!rt) {
      rt = new ServiceRuntime(unit, this.host);
      this.runtimes.set(unit, rt);
    }
    return rt;
  }

  canReload(unit: Unit): boolean {
    return (unit.config.service?.exec.ExecReload.length ?? 0) > 0;
  }

  async run(job: Job): Promise<JobResult> {
    switch (job.type) {
      case 'nop':
        return 'done';
      case 'start':
      case 'verify-active':
        return this.startPhase(job);
      case 'stop':
        return this.stopPhase(job);
      case 'restart': {
        const stopped = await this.stopPhase(job);
        if (stopped !== 'done' || job.finished) return stopped;
        this.queue?.becomeStart(job);
        return this.startPhase(job);
      }
      case 'reload':
      case 'try-reload':
        return this.reloadJob(job);
      default:
        return 'done';
    }
  }

  /** Resolves with the first result `decide` gives on a state change of the unit (or at once). */
  private watch(job: Job, decide: (state: ActiveState) => JobResult | null): Promise<JobResult> {
    return new Promise((resolve) => {
      const unit = job.unit;
      const done = (r: JobResult) => {
        unit.off('state', onState);
        unit.off('changed', onState);
        job.off('finished', onFinished);
        resolve(r);
      };
      const onState = (): void => {
        const r = decide(unit.activeState);
        if (r) done(r);
      };
      const onFinished = (r: JobResult) => done(r);
      unit.on('state', onState);
      // a failed unit whose new start fails at once goes failed -> (unpublished signal states) ->
      // failed: no 'state' event, but the runtime's state changed
      unit.on('changed', onState);
      job.once('finished', onFinished);
      onState();
    });
  }

  private async startPhase(job: Job): Promise<JobResult> {
    const unit = job.unit;
    if (isActive(unit.activeState)) return 'done';
    const rt = this.runtime(unit);
    if (!rt) {
      unit.setState('active', 'active');
      return 'done';
    }
    if (job.type === 'verify-active') return isActive(unit.activeState) ? 'done' : 'skipped';
    let attempted = false;
    let attempting = false;
    const attempt = (): void => {
      // start() announces its first state at once, and a start that fails at once (its start limit
      // hit) announces failed, which would call attempt() again from the watch below: once is enough
      if (attempting) return;
      attempting = true;
      try {
        if (rt.start() !== 'again') attempted = true;
      } finally {
        attempting = false;
      }
    };
    attempt();
    return this.watch(job, (s) => {
      if (isActive(s)) return 'done';
      if (!attempted) {
        // the unit was stopping: start once it is down
        if (!isInactive(s)) return null;
        attempt();
        if (!attempted) return null;
        // the start may have ended at once (its start limit hit): judge the state it left
        s = unit.activeState;
        if (isActive(s)) return 'done';
      }
      if (s === 'activating') return null;
      // the runtime may be on its way down without having published it yet (a failed start goes
      // through the signal states, which are shown only once something is signalled)
      if (isInactive(s) && rt.isInactive()) return s === 'failed' ? 'failed' : 'done';
      return null;
    });
  }

  private async stopPhase(job: Job): Promise<JobResult> {
    const unit = job.unit;
    const rt = this.runtime(unit);
    if (!rt) {
      if (!isInactive(unit.activeState)) unit.setState('inactive', 'dead');
      return 'done';
    }
    if ((await rt.stop()) === 'already') return 'done';
    return this.watch(job, (s) => {
      if (isInactive(s) && rt.state !== 'auto-restart') return 'done';
      // back to active while the stop job runs: failed (unit_process_job); a signal state that is
      // not published yet still shows the old active state
      if (s !== 'deactivating' && !isInactive(s) && rt.state !== 'auto-restart' && !rt.isStopping()) return 'failed';
      return null;
    });
  }

  private async reloadJob(job: Job): Promise<JobResult> {
    const unit = job.unit;
    const rt = this.runtime(unit);
    if (!rt || !isActive(unit.activeState)) return 'invalid';
    if (!rt.reload()) return 'invalid';
    return this.watch(job, (s) => {
      if (s === 'active') return unit.reloadResult === 'success' ? 'done' : 'failed';
      if (s === 'reloading' || s === 'activating') return null;
      return 'failed';
    });
  }
}
