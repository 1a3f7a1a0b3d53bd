// The manager: the loaded units, what the manager reports about itself, and hooks that later
// parts (jobs, the process tracker) fill in. Knows nothing of D-Bus.
import { EventEmitter } from 'node:events';
import { now, NO_TIMESTAMP, type DualTimestamp } from './util/clock.js';
import { UnitRegistry, type UnitSource } from './units/unit-registry.js';
import type { Unit } from './units/unit.js';

export type Scope = 'system' | 'user';
export type SystemState = 'initializing' | 'starting' | 'running' | 'degraded' | 'maintenance' | 'stopping';

/** One process of a unit as GetUnitProcesses reports it. */
export interface UnitProcess {
  cgroup: string;
  pid: number;
  command: string;
}

/** What the manager asks of the process tracker. */
export interface ProcessLookup {
  unitOfPid(pid: number): Unit | undefined;
  processesOf(unit: Unit): UnitProcess[];
}

const NO_PROCESSES: ProcessLookup = {
  unitOfPid: () => undefined,
  processesOf: () => [],
};

export interface ManagerOptions {
  scope: Scope;
  unitPath: string[];
  source: UnitSource;
  isValidUnitName: (name: string) => boolean;
}

export interface ManagerEvents {
  reloading: [boolean];
}

export class Manager extends EventEmitter<ManagerEvents> {
  readonly scope: Scope;
  readonly unitPath: string[];
  readonly units: UnitRegistry;
  readonly userspaceTimestamp: DualTimestamp = now();
  finishTimestamp: DualTimestamp = NO_TIMESTAMP;
  processes: ProcessLookup = NO_PROCESSES;
  private stopping = false;

  constructor(opts: ManagerOptions) {
    super();
    this.scope = opts.scope;
    this.unitPath = opts.unitPath;
    this.units = new UnitRegistry(opts.source, opts.isValidUnitName);
  }

  /** Loads the units of the search path; the manager is running from here on. */
  start(): void {
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

  beginShutdown(): void {
    this.stopping = true;
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
}
