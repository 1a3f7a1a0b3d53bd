// ProcessTracker without cgroups: the fallback where no writable cgroup2 exists.
//
// A unit's group is every process that carries the unit's marker in its initial environment
// (/proc/PID/environ: UNITD_UNIT=<unit id> and UNITD_TOKEN=<this tracker's random token>, both
// inherited across fork/exec), plus every descendant (by PPid) of such a process. So a process
// that setsid()s and double-forks is still found as long as it keeps its environment — which almost
// every daemon does. What this cannot see: a process that both wipes its environment (execve with
// a fresh env) AND is re-parented away from the marked tree. Those are reaped (unitd is a child
// subreaper) but not attributed to a unit.
//
// Only processes started after unitd itself are examined (an older process cannot descend from
// us), which keeps the /proc scan cheap.
//
// There is no event source for "group became empty": whenEmpty() re-checks after every reaper pass.
// The last process of a unit to die is a child of unitd — the main process, or an orphan re-parented
// to unitd, which is a child subreaper — so its end comes with a SIGCHLD and a reaper pass. Only a
// process whose parent is outside the unit and is not unitd ends without one; a slow safety poll
// (SAFETY_POLL_MS) finds those. canFreeze/canKillGroup are false; killGroup() still works as a
// loop-until-stable SIGKILL walk, with the fork race that implies.

import crypto from 'node:crypto';
import fs from 'node:fs';
import type {
  MemberListing,
  ProcessGroup,
  ProcessTracker,
  SpawnRequest,
  SpawnedProcess,
} from './types.js';
import { IdentityOperations } from './identity-operations.js';
import { launch } from './launch.js';
import { PF_KTHREAD, identityKey, readStat } from './proc-stat.js';
import { reaper } from './reaper.js';
import { signalIdentity } from './signal-identity.js';

export const MARKER_UNIT = 'UNITD_UNIT';
export const MARKER_TOKEN = 'UNITD_TOKEN';
/**
 * The safety poll, at most one scan a second, and never more than 5% of a CPU: a scan reads the
 * stat of every process started after unitd (10-20 ms with 1000 of them), and a 50 ms poll, used
 * before, cost an idle unitd 28% of a CPU while a unit of 1000 processes ran (2% with one process).
 */
const SAFETY_POLL_MS = 1000;

function codedError(message: string, code: string): Error & { code: string } {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  return e;
}

interface ProcEntry {
  ppid: number;
  startTime: bigint;
  /** the marked unit, if this process itself carries our marker */
  unit: string | undefined;
}

export class ProcTracker extends IdentityOperations implements ProcessTracker {
  readonly kind = 'proc' as const;
  readonly rootPath = '';
  readonly canFreeze = false;
  readonly canKillGroup = false;
  /** the random token in UNITD_TOKEN that tells our processes from another unitd's */
  readonly token = crypto.randomBytes(8).toString('hex');
  private readonly groups = new Map<string, ProcessGroup>();
  private readonly sinceTicks: bigint;
  private closed = false;
  /** /proc scans done so far (for tests and status) */
  scanCount = 0;
  /**
   * environ results per pid+starttime. A process's environment changes only when it execs with a
   * new one; the first answer is kept (a unit's process that drops the marker on exec still
   * descends from the unit; a process that would gain it on exec is not one of the unit's).
   */
  private readonly envCache = new Map<string, string | undefined>();

  constructor() {
    super();
    this.sinceTicks = readStat('self')?.startTime ?? 0n;
    reaper.acquire();
  }

  group(unitId: string): ProcessGroup {
    let g = this.groups.get(unitId);
    if (!g) {
      g = { unitId, path: '' };
      this.groups.set(unitId, g);
    }
    return g;
  }

  spawn(group: ProcessGroup, req: SpawnRequest): SpawnedProcess {
    this.group(group.unitId);
    return launch(req, { extraEnv: { [MARKER_UNIT]: group.unitId, [MARKER_TOKEN]: this.token } });
  }

  /** the unit marker of one process (our token only), cached per identity */
  private markerOf(pid: number, startTime: bigint): string | undefined {
    const k = identityKey({ pid, startTime });
    if (this.envCache.has(k)) return this.envCache.get(k);
    let unit: string | undefined;
    let env: string | null = null;
    try {
      env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      env = null;
    }
    if (env !== null) {
      let tokenOk = false;
      for (const kv of env.split('\0')) {
        if (kv === `${MARKER_TOKEN}=${this.token}`) tokenOk = true;
        else if (kv.startsWith(MARKER_UNIT + '=')) unit = kv.slice(MARKER_UNIT.length + 1);
      }
      if (!tokenOk) unit = undefined;
      // an empty environ means a zombie or kernel thread; do not cache a transient read failure
      if (env !== '') {
        this.envCache.set(k, unit);
        if (this.envCache.size > 20000) this.envCache.delete(this.envCache.keys().next().value!);
      }
    }
    return unit;
  }

  /** every live, non-kernel process started after unitd, with its parent and own marker */
  private scan(): Map<number, ProcEntry> {
    this.scanCount++;
    const out = new Map<number, ProcEntry>();
    let names: string[];
    try {
      names = fs.readdirSync('/proc');
    } catch {
      return out;
    }
    for (const n of names) {
      const c = n.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const pid = Number(n);
      if (pid === process.pid) continue;
      const st = readStat(pid);
      if (!st || st.startTime < this.sinceTicks) continue;
      if ((st.flags & PF_KTHREAD) !== 0 || st.state === 'Z' || st.state === 'X') continue;
      out.set(pid, { ppid: st.ppid, startTime: st.startTime, unit: this.markerOf(pid, st.startTime) });
    }
    return out;
  }

  /** the unit of each scanned process: its own marker, else the nearest marked ancestor's */
  private attribute(table: Map<number, ProcEntry>): Map<number, string> {
    const memo = new Map<number, string | null>();
    const resolve = (pid: number, depth: number): string | null => {
      if (memo.has(pid)) return memo.get(pid)!;
      const e = table.get(pid);
      let r: string | null = null;
      if (e) r = e.unit ?? (depth < 4096 ? resolve(e.ppid, depth + 1) : null);
      memo.set(pid, r);
      return r;
    };
    const out = new Map<number, string>();
    for (const pid of table.keys()) {
      const u = resolve(pid, 0);
      if (u !== null) out.set(pid, u);
    }
    return out;
  }

  /** the unit's processes with their start times, from one scan */
  private membersOf(unitId: string): Map<number, bigint> {
    const table = this.scan();
    const out = new Map<number, bigint>();
    for (const [pid, u] of this.attribute(table)) if (u === unitId) out.set(pid, table.get(pid)!.startTime);
    return out;
  }

  private pidsOf(unitId: string): number[] {
    return [...this.membersOf(unitId).keys()];
  }

  pids(group: ProcessGroup): number[] {
    return this.pidsOf(group.unitId);
  }

  members(group: ProcessGroup): MemberListing {
    // the start times of the latest scan: the walk signals by identity without reading them again
    let read = this.membersOf(group.unitId);
    return {
      pids: [...read.keys()],
      again: () => {
        read = this.membersOf(group.unitId);
        return [...read.keys()];
      },
      identityOf: (pid) => {
        const startTime = read.get(pid);
        return startTime === undefined ? null : { pid, startTime };
      },
    };
  }

  isEmpty(group: ProcessGroup): boolean {
    return this.pidsOf(group.unitId).length === 0;
  }

  /** whenEmpty waiters, by unit */
  private readonly emptyWaiters = new Map<string, Array<() => void>>();
  private pollTimer: NodeJS.Timeout | null = null;
  private scanTimer: NodeJS.Timeout | null = null;
  private offTick: (() => void) | null = null;
  private lastScanAt = 0;
  private lastScanMs = 0;

  /** one scan for all waiting units; resolves the ones that are empty */
  private checkWaiters(): void {
    if (this.emptyWaiters.size === 0) return;
    const t0 = performance.now();
    const busy = new Set(this.attribute(this.scan()).values());
    this.lastScanAt = performance.now();
    this.lastScanMs = this.lastScanAt - t0;
    for (const [unit, list] of [...this.emptyWaiters]) {
      if (busy.has(unit)) continue;
      this.emptyWaiters.delete(unit);
      for (const r of list) r();
    }
    this.updatePolling();
  }

  /**
   * Coalesced re-check: at most one /proc scan per max(5 ms, 2 × the last scan's duration), so a
   * SIGCHLD storm or a big /proc does not turn into a busy loop.
   */
  private requestCheck(): void {
    if (this.scanTimer || this.emptyWaiters.size === 0) return;
    const gap = Math.max(5, 2 * this.lastScanMs);
    const wait = Math.max(0, this.lastScanAt + gap - performance.now());
    this.scanTimer = setTimeout(() => {
      this.scanTimer = null;
      this.checkWaiters();
    }, wait);
  }

  private updatePolling(): void {
    const need = this.emptyWaiters.size > 0 && !this.closed;
    if (need && !this.pollTimer) {
      const interval = Math.max(SAFETY_POLL_MS, Math.ceil(20 * this.lastScanMs));
      this.pollTimer = setInterval(() => this.requestCheck(), interval);
      this.offTick = reaper.onTick(() => this.requestCheck());
    } else if (!need && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
      if (this.scanTimer) clearTimeout(this.scanTimer);
      this.scanTimer = null;
      this.offTick?.();
      this.offTick = null;
    }
  }

  /**
   * /proc has no event source: re-checks after every reaper pass (a SIGCHLD, see the top of this
   * file) and on the safety poll (SAFETY_POLL_MS, longer when a scan is slow).
   */
  whenEmpty(group: ProcessGroup): Promise<void> {
    return new Promise((resolve) => {
      if (this.isEmpty(group)) return resolve();
      const list = this.emptyWaiters.get(group.unitId) ?? [];
      list.push(resolve);
      this.emptyWaiters.set(group.unitId, list);
      this.updatePolling();
    });
  }

  unitOfPid(pid: number): string | undefined {
    const seen = new Set<number>();
    let cur = pid;
    while (cur > 1 && cur !== process.pid && !seen.has(cur)) {
      seen.add(cur);
      const st = readStat(cur);
      if (!st || st.startTime < this.sinceTicks || (st.flags & PF_KTHREAD) !== 0) return undefined;
      const u = this.markerOf(cur, st.startTime);
      if (u !== undefined) return u;
      cur = st.ppid;
    }
    return undefined;
  }

  remove(group: ProcessGroup): boolean {
    if (!this.isEmpty(group)) return false;
    this.groups.delete(group.unitId);
    return true;
  }

  freeze(_group: ProcessGroup): Promise<void> {
    return Promise.reject(codedError('no freezer without cgroup v2', 'EOPNOTSUPP'));
  }

  thaw(_group: ProcessGroup): Promise<void> {
    return Promise.reject(codedError('no freezer without cgroup v2', 'EOPNOTSUPP'));
  }

  isFrozen(_group: ProcessGroup): boolean {
    return false;
  }

  /**
   * Best effort without cgroup.kill: SIGKILL every member, re-scan, repeat until a pass finds no new
   * PID (systemd's cg_kill loop). A process forked by a member between our scan and its death can
   * still be missed if it also loses its marker; canKillGroup stays false to say so.
   */
  killGroup(group: ProcessGroup): void {
    const seen = new Set<string>();
    for (let pass = 0; pass < 100; pass++) {
      let fresh = 0;
      // the identities the scan read: no second /proc read per process
      for (const [pid, startTime] of this.membersOf(group.unitId)) {
        const id = { pid, startTime };
        const k = identityKey(id);
        if (seen.has(k)) continue;
        seen.add(k);
        fresh++;
        try {
          signalIdentity(id, 9);
        } catch {
          /* EPERM on a foreign process: nothing more to do */
        }
      }
      if (fresh === 0) break;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.emptyWaiters.clear();
    this.updatePolling();
    reaper.release();
  }
}
