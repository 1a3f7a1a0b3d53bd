// The accounting figures systemctl status shows (Tasks, Memory, CPU), read from the unit's cgroup.
// Where a figure's controller is not in cgroup v2 here (memory is a v1 controller on hybrid
// machines) it is UINT64_MAX, which systemctl takes as "unknown" and does not print.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupDir, findCgroup2Mount, type Cgroup2Mount } from '../processes/cgroup-fs.js';
import type { ProcessTracker } from '../processes/types.js';
import type { Unit } from '../units/unit.js';
import type { CgroupFigures } from './service-interface.js';

const UINT64_MAX = 0xffff_ffff_ffff_ffffn;
const UNKNOWN: CgroupFigures = { memoryCurrent: UINT64_MAX, memoryAvailable: UINT64_MAX, cpuUsageNSec: UINT64_MAX, tasksCurrent: UINT64_MAX, controlGroupId: 0n };

let mount: Cgroup2Mount | null | undefined;

function readBig(file: string): bigint | null {
  try {
    return BigInt(readFileSync(file, 'utf8').trim());
  } catch {
    return null;
  }
}

/** Threads in the cgroup and below (what pids.current would count). */
function countTasks(dir: string): bigint {
  let n = 0n;
  try {
    n += BigInt(readFileSync(join(dir, 'cgroup.threads'), 'utf8').split('\n').filter((l) => l !== '').length);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) n += countTasks(join(dir, e.name));
  } catch {
    // vanished while walking
  }
  return n;
}

export function cgroupFigures(tracker: ProcessTracker, unit: Unit): CgroupFigures {
  if (tracker.kind !== 'cgroup2' || unit.controlGroup === '') return UNKNOWN;
  if (mount === undefined) mount = findCgroup2Mount();
  const dir = mount ? cgroupDir(mount, unit.controlGroup) : null;
  if (!dir) return UNKNOWN;
  let id = 0n;
  try {
    id = BigInt(statSync(dir).ino);
  } catch {
    return UNKNOWN;
  }
  const memory = readBig(join(dir, 'memory.current')) ?? UINT64_MAX;
  let cpu = UINT64_MAX;
  try {
    const m = /^usage_usec (\d+)$/m.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'));
    if (m) cpu = BigInt(m[1]!) * 1000n;
  } catch {
    // no cpu.stat
  }
  const tasks = readBig(join(dir, 'pids.current')) ?? countTasks(dir);
  return { memoryCurrent: memory, memoryAvailable: UINT64_MAX, cpuUsageNSec: cpu, tasksCurrent: tasks, controlGroupId: id };
}
