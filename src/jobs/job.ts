// A job: one requested state change of one unit (start, stop, restart, ...), from installation
// until its result. Knows nothing of D-Bus; the bus layer watches its events.
import { EventEmitter } from 'node:events';
import type { Unit } from '../units/unit.js';

export type JobType = 'start' | 'verify-active' | 'stop' | 'reload' | 'reload-or-start' | 'restart' | 'try-restart' | 'try-reload' | 'nop';
export type JobState = 'waiting' | 'running';
export type JobResult = 'done' | 'canceled' | 'timeout' | 'failed' | 'dependency' | 'skipped' | 'invalid' | 'assert' | 'unsupported' | 'collected' | 'once';
export type JobMode = 'fail' | 'replace' | 'replace-irreversibly' | 'isolate' | 'flush' | 'ignore-dependencies' | 'ignore-requirements' | 'triggering';

export const JOB_MODES: readonly JobMode[] = ['fail', 'replace', 'replace-irreversibly', 'isolate', 'flush', 'ignore-dependencies', 'ignore-requirements', 'triggering'];

export interface JobEvents {
  /** the job moved from waiting to running */
  running: [];
  /** the job ended; emitted exactly once */
  finished: [JobResult];
}

export class Job extends EventEmitter<JobEvents> {
  state: JobState = 'waiting';
  result: JobResult | null = null;
  /** a restart job's stop phase is over and it now starts the unit */
  restartPhase: 'stop' | 'start' = 'stop';

  constructor(
    readonly id: number,
    readonly unit: Unit,
    public type: JobType,
    readonly irreversible: boolean,
    /** the bus name that asked for it, if any (may cancel it, receives its signals) */
    readonly requester: string | null,
  ) {
    super();
  }

  get finished(): boolean {
    return this.result !== null;
  }

  markRunning(): void {
    if (this.state === 'running' || this.finished) return;
    this.state = 'running';
    this.emit('running');
  }

  finish(result: JobResult): void {
    if (this.finished) return;
    this.result = result;
    this.emit('finished', result);
  }
}
