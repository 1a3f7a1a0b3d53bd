// ProcessTracker over cgroup v2: one cgroup per unit under <unitd's own cgroup>/unitd-<pid>.slice.
// Membership is kernel-enforced (setsid, double fork and re-parenting do not leave the cgroup);
// emptiness and freezer state are events (inotify on cgroup.events via fs.watch), not polling.

import fs from 'node:fs';
import path from 'node:path';
import type {
  MemberListing,
  ProcessGroup,
  ProcessTracker,
  SpawnRequest,
  SpawnedProcess,
} from './types.js';
import {
  cgroupOfPid,
  escapeCgroupName,
  locateWritableCgroup2,
  readCgroupEvents,
  CgroupFiles,
  readProcsOf,
  readProcsRecursive,
  unescapeCgroupName,
  type Cgroup2Location,
} from './cgroup-fs.js';
import { IdentityOperations } from './identity-operations.js';
import { launch } from './launch.js';
import { reaper } from './reaper.js';

interface Group extends ProcessGroup {
  readonly dir: string;
  readonly files: CgroupFiles;
}

interface EventsWatch {
  watcher: fs.FSWatcher;
  listeners: Set<() => void>;
}

let instances = 0;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function codedError(message: string, code: string): Error & { code: string } {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  return e;
}

/**
 * Subtrees left by a unitd that died without cleaning up (SIGKILL, a crash): empty ones whose
 * owner PID is gone are removed; anything still holding a process is left alone.
 */
function removeStaleSubtrees(parentDir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(parentDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const m = /^unitd-(\d+)(?:-\d+)?\.slice$/.exec(entry);
    if (!m || Number(m[1]) === process.pid || fs.existsSync(`/proc/${m[1]}`)) continue;
    const dir = path.join(parentDir, entry);
    if (readProcsRecursive(dir).length > 0) continue;
    const removeTree = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) removeTree(path.join(d, e.name));
      fs.rmdirSync(d);
    };
    try {
      removeTree(dir);
    } catch {
      // busy or raced with another unitd: leave it
    }
  }
}

export class CgroupTracker extends IdentityOperations implements ProcessTracker {
  readonly kind = 'cgroup2' as const;
  readonly rootPath: string;
  /** the subtree's directory on disk */
  readonly rootDir: string;
  readonly canFreeze: boolean;
  readonly canKillGroup = true;
  private readonly loc: Cgroup2Location;
  private readonly groups = new Map<string, Group>();
  private readonly unitByName = new Map<string, string>();
  private readonly watches = new Map<string, EventsWatch>();
  private closed = false;
  private offTick: (() => void) | null = null;

  constructor(location?: Cgroup2Location) {
    super();
    const loc = location ?? locateWritableCgroup2();
    if (!loc) throw codedError('no writable cgroup2 hierarchy', 'ENOTSUP');
    this.loc = loc;
    // unitd-<pid>.slice: unique per unitd process; a second tracker in the same process (tests)
    // gets its own unitd-<pid>-<n>.slice so closing one never touches the other's subtree.
    instances++;
    const name = instances === 1 ? `unitd-${process.pid}.slice` : `unitd-${process.pid}-${instances}.slice`;
    this.rootPath = path.posix.join(loc.ownPath, name);
    this.rootDir = path.join(loc.ownDir, name);
    this.canFreeze = loc.hasFreeze;
    removeStaleSubtrees(loc.ownDir);
    fs.mkdirSync(this.rootDir, { recursive: true });
    reaper.acquire();
    // The kernel rate-limits cgroup.events notifications (at most one per ~10 ms per file), so a
    // group that empties right after it was populated is reported late. Most unit processes are our
    // children or re-parented orphans, whose death raises SIGCHLD: re-check the watched groups on
    // every reaper pass too. The inotify watch stays the source for everything else.
    this.offTick = reaper.onTick(() => {
      for (const w of [...this.watches.values()]) for (const l of [...w.listeners]) l();
    });
  }

  /** the mount point of the cgroup2 hierarchy in use */
  get mountPoint(): string {
    return this.loc.mount.mountPoint;
  }

  group(unitId: string): ProcessGroup {
    let g = this.groups.get(unitId);
    if (!g) {
      const name = escapeCgroupName(unitId);
      const dir = path.join(this.rootDir, name);
      g = { unitId, path: path.posix.join(this.rootPath, name), dir, files: new CgroupFiles(dir) };
      this.groups.set(unitId, g);
      this.unitByName.set(name, unitId);
    }
    this.ensureDir(g);
    return { unitId: g.unitId, path: g.path };
  }

  private ensureDir(g: Group): void {
    try {
      fs.mkdirSync(g.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }

  private resolve(group: ProcessGroup): Group {
    const g = this.groups.get(group.unitId);
    if (!g) {
      this.group(group.unitId);
      return this.groups.get(group.unitId)!;
    }
    return g;
  }

  /** the directory of a group (for tests and diagnostics) */
  dirOf(group: ProcessGroup): string {
    return this.resolve(group).dir;
  }

  spawn(group: ProcessGroup, req: SpawnRequest): SpawnedProcess {
    const g = this.resolve(group);
    this.ensureDir(g);
    return launch(req, { cgroupDir: g.dir });
  }

  pids(group: ProcessGroup): number[] {
    const g = this.resolve(group);
    return [...new Set(readProcsRecursive(g.dir, [], g.files))];
  }

  members(group: ProcessGroup): MemberListing {
    const g = this.resolve(group);
    const subgroups: string[] = [];
    const pids = readProcsRecursive(g.dir, [], g.files, subgroups);
    return {
      pids,
      again: () => {
        const out = readProcsOf(g.files);
        for (const dir of subgroups) readProcsRecursive(dir, out, undefined, null);
        return out;
      },
    };
  }

  isEmpty(group: ProcessGroup): boolean {
    const ev = readCgroupEvents(this.resolve(group).dir);
    return ev === null || !ev.populated;
  }

  /** subscribes to changes of <dir>/cgroup.events; returns the unsubscribe function */
  private watchEvents(dir: string, listener: () => void): () => void {
    let w = this.watches.get(dir);
    if (!w) {
      let watcher: fs.FSWatcher;
      try {
        watcher = fs.watch(path.join(dir, 'cgroup.events'), { persistent: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          // the cgroup is gone: tell the listener once, asynchronously
          queueMicrotask(listener);
          return () => {};
        }
        // no inotify watch available (ENOSPC/EMFILE: watch limits): degrade to polling this file
        const timer = setInterval(listener, 50);
        queueMicrotask(listener);
        return () => clearInterval(timer);
      }
      const entry: EventsWatch = { watcher, listeners: new Set() };
      const fire = (): void => {
        for (const l of [...entry.listeners]) l();
      };
      watcher.on('change', fire);
      watcher.on('error', () => {
        fire();
        this.dropWatch(dir);
      });
      this.watches.set(dir, entry);
      w = entry;
    }
    const entry = w;
    entry.listeners.add(listener);
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.watches.get(dir) === entry) this.dropWatch(dir);
    };
  }

  private dropWatch(dir: string): void {
    const w = this.watches.get(dir);
    if (!w) return;
    this.watches.delete(dir);
    w.watcher.close();
  }

  /**
   * Resolves once cgroup.events satisfies the predicate (checked after the watch is in place).
   * `burst`: also re-check a few times over the next ~16 ms. The kernel sends at most one
   * cgroup.events notification per file every 10 ms (3 jiffies at HZ=250), so a state change right
   * after another one (freeze just after a thaw) is announced up to ~12 ms late; the freezer itself
   * takes well under 1 ms. Used where we caused the change (freeze/thaw), so the wait is bounded.
   */
  private waitEvents(
    dir: string,
    done: (ev: { populated: boolean; frozen: boolean } | null) => boolean,
    burst = false,
  ): Promise<void> {
    return new Promise((resolve) => {
      if (done(readCgroupEvents(dir))) return resolve();
      let off: () => void = () => {};
      let settled = false;
      let timer: NodeJS.Timeout | null = null;
      const check = (): void => {
        if (settled) return;
        if (done(readCgroupEvents(dir))) {
          settled = true;
          if (timer) clearTimeout(timer);
          off();
          resolve();
        }
      };
      off = this.watchEvents(dir, check);
      check(); // an event may have happened between the first read and the watch
      if (burst && !settled) {
        const delays = [0, 1, 2, 4, 8];
        const next = (): void => {
          const d = delays.shift();
          if (d === undefined || settled) return;
          timer = setTimeout(() => {
            check();
            next();
          }, d);
        };
        next();
      }
    });
  }

  whenEmpty(group: ProcessGroup): Promise<void> {
    return this.waitEvents(this.resolve(group).dir, (ev) => ev === null || !ev.populated);
  }

  unitOfPid(pid: number): string | undefined {
    const cg = cgroupOfPid(pid);
    if (cg === null || !cg.startsWith(this.rootPath + '/')) return undefined;
    const name = cg.slice(this.rootPath.length + 1).split('/')[0]!;
    return this.unitByName.get(name) ?? unescapeCgroupName(name);
  }

  remove(group: ProcessGroup): boolean {
    const g = this.resolve(group);
    if (!fs.existsSync(g.dir)) return true;
    if (!this.isEmpty(group)) return false;
    this.dropWatch(g.dir);
    g.files.close();
    return removeTree(g.dir);
  }

  async freeze(group: ProcessGroup): Promise<void> {
    if (!this.canFreeze) throw codedError('cgroup freezer not available', 'EOPNOTSUPP');
    const dir = this.resolve(group).dir;
    fs.writeFileSync(path.join(dir, 'cgroup.freeze'), '1');
    await this.waitEvents(dir, (ev) => ev === null || ev.frozen, true);
  }

  async thaw(group: ProcessGroup): Promise<void> {
    if (!this.canFreeze) throw codedError('cgroup freezer not available', 'EOPNOTSUPP');
    const dir = this.resolve(group).dir;
    try {
      fs.writeFileSync(path.join(dir, 'cgroup.freeze'), '0');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    await this.waitEvents(dir, (ev) => ev === null || !ev.frozen, true);
  }

  isFrozen(group: ProcessGroup): boolean {
    return readCgroupEvents(this.resolve(group).dir)?.frozen ?? false;
  }

  killGroup(group: ProcessGroup): void {
    const dir = this.resolve(group).dir;
    if (this.loc.hasKill) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EOPNOTSUPP' && code !== 'ENOTSUP') throw e;
      }
    }
    // No cgroup.kill (kernel < 5.14, threaded cgroup): walk cgroup.procs until a pass finds no new PID.
    const seen = new Set<number>();
    for (let pass = 0; pass < 100; pass++) {
      let fresh = 0;
      for (const pid of readProcsRecursive(dir)) {
        if (seen.has(pid)) continue;
        seen.add(pid);
        fresh++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      if (fresh === 0) break;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const dir of [...this.watches.keys()]) this.dropWatch(dir);
    this.offTick?.();
    this.offTick = null;
    for (const g of this.groups.values()) {
      g.files.close();
      const ev = readCgroupEvents(g.dir);
      if (ev && !ev.populated) removeTree(g.dir);
    }
    // leftover unit cgroups we did not create through group() (e.g. after a restart) stay if busy
    const ev = readCgroupEvents(this.rootDir);
    if (ev && !ev.populated) removeTree(this.rootDir);
    reaper.release();
  }
}

/** rmdir a cgroup and its (empty) sub-cgroups, depth-first; EBUSY is retried for ~100 ms */
function removeTree(dir: string): boolean {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
  }
  let ok = true;
  for (const e of entries) if (e.isDirectory()) ok = removeTree(path.join(dir, e.name)) && ok;
  for (let attempt = 0; ; attempt++) {
    try {
      fs.rmdirSync(dir);
      return ok;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return ok;
      if (code === 'EBUSY' && attempt < 20) {
        sleepSync(5);
        continue;
      }
      return false;
    }
  }
}
