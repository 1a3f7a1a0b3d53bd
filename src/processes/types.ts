// The process-tree tracker's contract: what the service state machine and the signal scheduler
// ask of it. Two implementations: cgroup v2 (preferred) and a /proc-based fallback.

import type { ResourceLimit } from '../units/resource-limit.js';

/** How a process ended, as waitid(2) reports it (systemd's ExecMainCode/ExecMainStatus). */
export interface ExitInfo {
  /** si_code: 1 CLD_EXITED, 2 CLD_KILLED, 3 CLD_DUMPED */
  code: 1 | 2 | 3;
  /** exit status for CLD_EXITED, signal number otherwise */
  status: number;
}

/** A process as a stable identity: a PID plus its start time, so a recycled PID never matches. */
export interface ProcessIdentity {
  pid: number;
  /** /proc/PID/stat field 22 (clock ticks since boot) */
  startTime: bigint;
}

export interface SpawnRequest {
  /** absolute path of the executable */
  path: string;
  /** argv including argv[0] */
  argv: string[];
  /** the complete environment of the new process */
  env: Record<string, string>;
  cwd?: string;
  /** User=/Group= (names or numeric ids); unset = run as unitd's user */
  user?: string;
  group?: string;
  /** start with SIGPIPE ignored (IgnoreSIGPIPE=yes, systemd's default) */
  ignoreSigpipe?: boolean;
  /** the RLIMIT_NOFILE to start with (unset: unitd's own) */
  nofile?: ResourceLimit;
  /** one call per line of output, without the newline */
  onOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
}

/** A process unitd started. `exited` settles once it has ended and been reaped. */
export interface SpawnedProcess {
  identity: ProcessIdentity;
  exited: Promise<ExitInfo>;
}

/**
 * A group's processes as read for a signal walk: `pids` now, and `again()` for the processes
 * forked since. A fork is born in its parent's cgroup, so `again()` re-reads only the cgroups this
 * listing found, without looking for new child cgroups (only a privileged process can make and
 * populate one, and such a process can leave the unit's cgroup altogether anyway).
 */
export interface MemberListing {
  readonly pids: number[];
  again(): number[];
  /**
   * The identity a listing read along with a PID (the /proc tracker's scan reads every start
   * time), so that the walk need not read it again; absent where the listing has no start times.
   */
  identityOf?(pid: number): ProcessIdentity | null;
}

/** The processes of one unit: a cgroup, or its /proc emulation. */
export interface ProcessGroup {
  readonly unitId: string;
  /** cgroup path relative to the cgroup2 root (the ControlGroup property), e.g. /unitd-123.slice/foo.service */
  readonly path: string;
}

export interface ProcessTracker {
  readonly kind: 'cgroup2' | 'proc';
  /** the manager's own subtree, relative to the cgroup2 root */
  readonly rootPath: string;
  /** the group of a unit, created if needed (idempotent) */
  group(unitId: string): ProcessGroup;
  /** starts a process that is a member of the group before it execs */
  spawn(group: ProcessGroup, req: SpawnRequest): SpawnedProcess;
  /** every process of the group right now (recursively), kernel threads excluded */
  pids(group: ProcessGroup): number[];
  /** the group's processes read for a signal walk (see MemberListing) */
  members(group: ProcessGroup): MemberListing;
  isEmpty(group: ProcessGroup): boolean;
  /** resolves when the group has no process left (event-driven: cgroup.events, not polling) */
  whenEmpty(group: ProcessGroup): Promise<void>;
  /** the unit whose group holds the PID, if any */
  unitOfPid(pid: number): string | undefined;
  /** removes an empty group; false when it still has processes */
  remove(group: ProcessGroup): boolean;

  /** the freezer: resolves once the kernel reports the group frozen/thawed; false where unsupported */
  readonly canFreeze: boolean;
  freeze(group: ProcessGroup): Promise<void>;
  thaw(group: ProcessGroup): Promise<void>;
  isFrozen(group: ProcessGroup): boolean;
  /** SIGKILL to the whole group at once (cgroup.kill), new forks included; false where unsupported */
  readonly canKillGroup: boolean;
  killGroup(group: ProcessGroup): void;

  /** the identity of a live process, null when it does not exist */
  identify(pid: number): ProcessIdentity | null;
  /** sends a signal only if the PID still belongs to that identity; false when it is gone/recycled */
  signal(identity: ProcessIdentity, signal: number): boolean;
  /** sigqueue(3) with an int value, same identity rule */
  queueSignal(identity: ProcessIdentity, signal: number, value: number): boolean;
  /** how a process that is NOT unitd's direct child ends (e.g. a forking service's main PID) */
  watchExit(identity: ProcessIdentity): Promise<ExitInfo | null>;

  /** stops watchers and removes the manager's subtree once it is empty */
  close(): Promise<void>;
}
