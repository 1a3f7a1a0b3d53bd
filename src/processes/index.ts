// The process tracker factory: cgroup v2 where a writable hierarchy exists, /proc otherwise.

import type { ProcessTracker } from './types.js';
import { locateWritableCgroup2 } from './cgroup-fs.js';
import { CgroupTracker } from './cgroup-tracker.js';
import { ProcTracker } from './proc-tracker.js';

export type TrackerKind = 'cgroup2' | 'proc';

export interface TrackerOptions {
  /** force one implementation; 'cgroup2' throws when no writable cgroup2 exists */
  force?: TrackerKind;
}

/** environment variable that forces the tracker when the option is not given */
export const TRACKER_ENV = 'UNITD_TRACKER';

/** parses a --tracker=… / UNITD_TRACKER value; undefined for "auto" or empty */
export function parseTrackerKind(value: string | undefined): TrackerKind | undefined {
  if (value === undefined || value === '' || value === 'auto') return undefined;
  if (value === 'cgroup2' || value === 'cgroup' || value === 'cgroups') return 'cgroup2';
  if (value === 'proc') return 'proc';
  throw new Error(`invalid tracker "${value}" (expected auto, cgroup2 or proc)`);
}

export function createProcessTracker(options: TrackerOptions = {}): ProcessTracker {
  const force = options.force ?? parseTrackerKind(process.env[TRACKER_ENV]);
  if (force === 'proc') return new ProcTracker();
  const loc = locateWritableCgroup2();
  if (loc) return new CgroupTracker(loc);
  if (force === 'cgroup2') {
    const e = new Error('no writable cgroup2 hierarchy for unitd') as Error & { code: string };
    e.code = 'ENOTSUP';
    throw e;
  }
  return new ProcTracker();
}

export type * from './types.js';
export { CgroupTracker } from './cgroup-tracker.js';
export { ProcTracker } from './proc-tracker.js';
export { reaper } from './reaper.js';
export { stopFdInheritance } from './inherited-fds.js';
export { spawnRegistered, isLibuvOwned } from './spawn-registry.js';
/** the cgroup v2 path of any PID (GetUnitProcesses' first field), null when unknown */
export { cgroupOfPid } from './cgroup-fs.js';
export { identify, readStat } from './proc-stat.js';
/** recognises launch's own intermediate steps in a /proc/PID/cmdline (Type=exec waits past them) */
export { isLaunchStep } from './launch.js';
