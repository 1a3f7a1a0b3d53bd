// A unit at run time: its loaded configuration plus the state systemd reports for it.
// The state machines of later parts (start, stop, kill) change these fields and call changed().
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { NO_TIMESTAMP, now, type DualTimestamp } from '../util/clock.js';
import type { ExecCommand, ExecKind, LoadedUnit } from './types.js';

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

export type ActiveState = 'active' | 'reloading' | 'inactive' | 'failed' | 'activating' | 'deactivating' | 'maintenance';
export type FreezerState = 'running' | 'freezing' | 'frozen' | 'thawing';

/** What happened to one run of a command: the Exec struct's runtime fields. */
export interface ExecStatus {
  pid: number;
  start: DualTimestamp;
  exit: DualTimestamp;
  /** si_code: 0 not exited, 1 CLD_EXITED, 2 CLD_KILLED, 3 CLD_DUMPED */
  code: number;
  status: number;
}

export const NO_EXEC_STATUS: ExecStatus = Object.freeze({ pid: 0, start: NO_TIMESTAMP, exit: NO_TIMESTAMP, code: 0, status: 0 });

export interface UnitTimestamps {
  stateChange: DualTimestamp;
  inactiveExit: DualTimestamp;
  activeEnter: DualTimestamp;
  activeExit: DualTimestamp;
  inactiveEnter: DualTimestamp;
  condition: DualTimestamp;
  assert: DualTimestamp;
}

export class Unit extends EventEmitter {
  config: LoadedUnit;
  activeState: ActiveState = 'inactive';
  subState = 'dead';
  freezerState: FreezerState = 'running';
  /** service Result= vocabulary: success, exit-code, signal, timeout, ... */
  result = 'success';
  reloadResult = 'success';
  timestamps: UnitTimestamps = {
    stateChange: NO_TIMESTAMP,
    inactiveExit: NO_TIMESTAMP,
    activeEnter: NO_TIMESTAMP,
    activeExit: NO_TIMESTAMP,
    inactiveEnter: NO_TIMESTAMP,
    condition: NO_TIMESTAMP,
    assert: NO_TIMESTAMP,
  };
  conditionResult = false;
  assertResult = false;
  mainPID = 0;
  controlPID = 0;
  execMain: ExecStatus = NO_EXEC_STATUS;
  execStatus = new Map<ExecCommand, ExecStatus>();
  /** 16 bytes while an invocation lives, else empty */
  invocationId: Buffer = Buffer.alloc(0);
  nRestarts = 0;
  statusText = '';
  statusErrno = 0;
  /** the unit's cgroup path relative to the cgroup2 root, "" when it has none */
  controlGroup = '';
  /** the job installed for the unit, if any (type as systemd reports it: start, stop, ...) */
  job: { id: number; path: string; type: string } | null = null;
  /** bus names holding a Ref() on the unit */
  refs: string[] = [];
  /** modification times of the fragment and drop-ins when they were read */
  private fileStamps = new Map<string, number>();

  constructor(config: LoadedUnit) {
    super();
    this.config = config;
    this.stampFiles();
  }

  /** Takes a new configuration (daemon-reload), keeping the run-time state. */
  reconfigure(config: LoadedUnit): void {
    this.config = config;
    this.stampFiles();
    this.changed();
  }

  private stampFiles(): void {
    this.fileStamps = new Map();
    for (const f of [this.config.fragmentPath, ...this.config.dropInPaths]) {
      if (f) this.fileStamps.set(f, mtimeOf(f));
    }
  }

  /** A file the unit was loaded from changed (or vanished) since: systemctl then asks for daemon-reload. */
  get needDaemonReload(): boolean {
    for (const [f, stamp] of this.fileStamps) if (mtimeOf(f) !== stamp) return true;
    return false;
  }

  get id(): string {
    return this.config.id;
  }

  execStatusOf(kind: ExecKind, index: number): ExecStatus {
    const cmd = this.config.service?.exec[kind][index];
    return (cmd && this.execStatus.get(cmd)) ?? NO_EXEC_STATUS;
  }

  /** Moves to a new state, keeping systemd's timestamps in step. */
  setState(activeState: ActiveState, subState: string): void {
    const old = this.activeState;
    if (old === activeState && this.subState === subState) return;
    const t = now();
    const wasActive = old === 'active' || old === 'reloading';
    const isActive = activeState === 'active' || activeState === 'reloading';
    const wasInactive = old === 'inactive' || old === 'failed';
    const isInactive = activeState === 'inactive' || activeState === 'failed';
    if (wasInactive && !isInactive) this.timestamps.inactiveExit = t;
    else if (!wasInactive && isInactive) this.timestamps.inactiveEnter = t;
    if (!wasActive && isActive) this.timestamps.activeEnter = t;
    else if (wasActive && !isActive) this.timestamps.activeExit = t;
    this.timestamps.stateChange = t;
    this.activeState = activeState;
    this.subState = subState;
    this.emit('state', old, activeState, subState);
    this.changed();
  }

  /** Tells listeners (the bus layer) that some reported value may have changed. */
  changed(): void {
    this.emit('changed');
  }
}
