// Reaping of processes libuv does not know, and exit watching for processes that are not ours.
//
// unitd marks itself a child subreaper (prctl), so when a unit's process double-forks and its
// parent exits, the orphan is re-parented to unitd rather than to PID 1. libuv reaps only the
// children it spawned (one waitpid(pid, WNOHANG) per known PID in its SIGCHLD handler), so orphans
// would stay zombies. On every SIGCHLD (process.on('SIGCHLD') coexists with libuv's own handler) and
// on a slow safety timer, the reaper asks the kernel for the next exited child (waitid with
// WNOWAIT, which reaps nothing) and reaps it by PID unless libuv owns it (see spawn-registry.ts);
// where that cannot work it lists unitd's children from /proc/self/task/*/children instead.
// Statuses go to watchExit() waiters and into a small cache of recent exits.
//
// Processes that are not (yet) our children never cause SIGCHLD; for those, watchExit keeps a
// pidfd and the reaper polls it (poll(2), 0 timeout) on a faster timer that only runs while such
// waiters exist. Without pidfds it checks /proc instead.

import os from 'node:os';
import type { ExitInfo, ProcessIdentity } from './types.js';
import { getNative, type Native } from './native.js';
import { identify, identityKey, ownChildren, readStat, sameIdentity } from './proc-stat.js';
import { isLibuvOwned, libuvChild, installSpawnHook } from './spawn-registry.js';

const SAFETY_INTERVAL_MS = 2000;
const WATCH_INTERVAL_MS = 50;
const RECENT_MAX = 512;
/**
 * Zombies reaped per pass. A dying unit of 1000 processes leaves 1000 orphans to reap (5-50 µs
 * each); capped passes, one per event-loop turn, let the unit's own events (its cgroup emptied,
 * its job done) through in between instead of after the whole batch.
 */
const REAP_BATCH = 64;

interface Waiter {
  identity: ProcessIdentity;
  pidfd: number | null;
  resolve: (info: ExitInfo | null) => void;
}

export function exitInfoFromNode(code: number | null, signal: NodeJS.Signals | null): ExitInfo {
  if (code !== null) return { code: 1, status: code };
  const num = signal ? (os.constants.signals as Record<string, number>)[signal] : undefined;
  // Node does not say whether a core was dumped: CLD_DUMPED (3) cannot be told apart here.
  return { code: 2, status: num ?? 0 };
}

class Reaper {
  private refs = 0;
  private timer: NodeJS.Timeout | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly recent = new Map<string, ExitInfo>();
  private readonly tickListeners = new Set<() => void>();
  private subreaper = false;
  /** children (pid:starttime) that existed when reaping started: maybe libuv's, never reaped here */
  private readonly preexisting = new Set<string>();
  /** orphans reaped so far (for tests and status) */
  reapedCount = 0;

  private tickScheduled = false;
  /** a burst of SIGCHLDs (a dying fork bomb) makes one pass per event-loop turn, not one per signal */
  private readonly onSigchld = (): void => {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    setImmediate(() => {
      this.tickScheduled = false;
      this.tick();
    });
  };

  /** starts reaping (idempotent, reference-counted); makes this process a child subreaper */
  acquire(): void {
    this.refs++;
    if (this.refs > 1) return;
    installSpawnHook();
    if (this.preexisting.size === 0) {
      for (const pid of ownChildren()) {
        if (isLibuvOwned(pid)) continue;
        const st = readStat(pid);
        if (st) this.preexisting.add(identityKey({ pid, startTime: st.startTime }));
      }
    }
    const native = getNative();
    if (native && !this.subreaper) {
      try {
        native.setChildSubreaper(true);
        this.subreaper = true;
      } catch {
        /* not fatal: orphans then go to init */
      }
    }
    process.on('SIGCHLD', this.onSigchld);
    this.timer = setInterval(() => this.tick(), SAFETY_INTERVAL_MS);
    this.timer.unref();
  }

  release(): void {
    if (this.refs === 0) return;
    this.refs--;
    if (this.refs > 0) return;
    process.off('SIGCHLD', this.onSigchld);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // The subreaper flag stays set: orphans may still arrive, and the next acquire reaps them.
    this.tick();
  }

  isSubreaper(): boolean {
    return this.subreaper;
  }

  /** called after every reaping pass (the proc tracker re-checks its groups then) */
  onTick(listener: () => void): () => void {
    this.tickListeners.add(listener);
    return () => this.tickListeners.delete(listener);
  }

  /**
   * One reaping pass: zombie children not owned by libuv (at most REAP_BATCH; the rest on the next
   * turn), then non-child waiters, then the tick listeners.
   */
  tick(): void {
    const native = getNative();
    let more = false;
    if (native && this.preexisting.size === 0) {
      const fast = this.reapNextExited(native);
      more = fast === 'more' || (fast === 'blocked' && this.reapByScan(native));
    } else {
      more = this.reapByScan(native);
    }
    this.checkNonChildWaiters();
    for (const l of this.tickListeners) {
      try {
        l();
      } catch {
        /* a listener's failure must not stop reaping */
      }
    }
    if (more) this.onSigchld();
  }

  /**
   * The kernel names the next exited child (waitid with WNOWAIT), which is reaped by PID: no
   * listing of children, and no /proc read unless someone waits for that PID (then its identity
   * is checked). 'blocked': the next exited child is libuv's (libuv reaps it in its own SIGCHLD
   * handler, and the kernel would keep naming it first), so the caller scans instead.
   */
  private reapNextExited(native: Native): 'done' | 'more' | 'blocked' {
    const watched = this.watchedPids();
    for (let reaped = 0; reaped < REAP_BATCH; reaped++) {
      const pid = native.nextExitedChild();
      if (pid <= 0) return 'done';
      if (isLibuvOwned(pid)) return 'blocked';
      let startTime: bigint | undefined;
      if (watched.has(pid)) {
        startTime = readStat(pid)?.startTime;
        if (startTime === undefined) return 'blocked'; // its identity cannot be read: leave it to the scan
      }
      let info: ExitInfo | null;
      try {
        info = native.waitpidNoHang(pid);
      } catch {
        return 'blocked'; // ECHILD: someone else reaped it meanwhile
      }
      if (!info) return 'blocked';
      this.reapedCount++;
      if (startTime !== undefined) this.deliver({ pid, startTime }, info);
    }
    return 'more';
  }

  /**
   * Lists unitd's children from /proc and reaps the exited ones libuv does not own (those someone
   * waits for first). Used where the kernel cannot name them (no native calls, children that
   * predate the reaper, libuv's zombie first in line). Returns true when more may be waiting.
   */
  private reapByScan(native: Native | null): boolean {
    const live = new Set<string>();
    const children = ownChildren();
    if (children.length > REAP_BATCH && this.waiters.size > 0) {
      const watched = this.watchedPids();
      children.sort((a, b) => Number(watched.has(b)) - Number(watched.has(a)));
    }
    let reaped = 0;
    let more = false;
    for (const pid of children) {
      if (reaped === REAP_BATCH) {
        more = true;
        break;
      }
      if (isLibuvOwned(pid)) continue;
      // a cheap peek first: only an exited child is worth reading /proc for (a dying fork bomb
      // leaves hundreds of live children here)
      if (native && this.preexisting.size === 0 && !native.childHasExited(pid)) continue;
      const st = readStat(pid);
      if (!st) continue;
      const id = identityKey({ pid, startTime: st.startTime });
      if (st.state !== 'Z' || !native) {
        live.add(id);
        continue;
      }
      if (this.preexisting.has(id)) {
        live.add(id);
        continue;
      }
      let info: ExitInfo | null;
      try {
        info = native.waitpidNoHang(pid);
      } catch {
        continue; // ECHILD: someone else reaped it
      }
      if (!info) continue;
      this.reapedCount++;
      reaped++;
      this.deliver({ pid, startTime: st.startTime }, info);
    }
    // forget pre-existing children once they are gone (their PIDs may be reused by new children)
    if (this.preexisting.size > 0 && !more) for (const k of this.preexisting) if (!live.has(k)) this.preexisting.delete(k);
    return more;
  }

  /** the PIDs someone waits for */
  private watchedPids(): Set<number> {
    const pids = new Set<number>();
    for (const ws of this.waiters.values()) pids.add(ws[0]!.identity.pid);
    return pids;
  }

  private deliver(id: ProcessIdentity, info: ExitInfo | null): void {
    const k = identityKey(id);
    if (info) {
      this.recent.set(k, info);
      if (this.recent.size > RECENT_MAX) this.recent.delete(this.recent.keys().next().value!);
    }
    const ws = this.waiters.get(k);
    if (!ws) return;
    this.waiters.delete(k);
    for (const w of ws) this.finish(w, info);
    this.updateWatchTimer();
  }

  private finish(w: Waiter, info: ExitInfo | null): void {
    if (w.pidfd !== null) getNative()?.close(w.pidfd);
    w.pidfd = null;
    w.resolve(info);
  }

  private checkNonChildWaiters(): void {
    if (this.waiters.size === 0) return;
    const native = getNative();
    const fds: number[] = [];
    for (const ws of this.waiters.values()) for (const w of ws) if (w.pidfd !== null) fds.push(w.pidfd);
    let readable = new Set<number>();
    if (native && fds.length) {
      try {
        readable = native.pollReadable(fds);
      } catch {
        readable = new Set(fds); // fall back to the /proc check for all
      }
    }
    for (const [k, ws] of [...this.waiters]) {
      const id = ws[0]!.identity;
      const fdSaysDead = ws.some((w) => w.pidfd !== null && readable.has(w.pidfd));
      const noFd = ws.every((w) => w.pidfd === null);
      if (!fdSaysDead && !noFd) continue;
      const st = readStat(id.pid);
      if (st && st.startTime === id.startTime) {
        if (st.state !== 'Z' && st.state !== 'X') continue; // still alive
        // A zombie: if it is ours, the next pass reaps it with its status.
        if (st.ppid === process.pid && !isLibuvOwned(id.pid) && !this.preexisting.has(k) && getNative()) continue;
        // Someone else's zombie: its status is not ours to learn.
      }
      this.waiters.delete(k);
      for (const w of ws) this.finish(w, this.recent.get(k) ?? null);
    }
    this.updateWatchTimer();
  }

  private updateWatchTimer(): void {
    const need = this.waiters.size > 0;
    if (need && !this.watchTimer) {
      this.watchTimer = setInterval(() => this.tick(), WATCH_INTERVAL_MS);
      this.watchTimer.unref();
    } else if (!need && this.watchTimer) {
      clearInterval(this.watchTimer);
      this.watchTimer = null;
    }
  }

  /**
   * How a process ends. For unitd's own libuv children, from their 'exit' event; for orphans
   * re-parented to unitd, from waitpid; for anything else (or a status already consumed), null
   * once it is gone. Resolves null at once when the identity no longer matches a live process.
   */
  watchExit(identity: ProcessIdentity): Promise<ExitInfo | null> {
    const k = identityKey(identity);
    const cached = this.recent.get(k);
    if (cached) return Promise.resolve(cached);
    const current = identify(identity.pid);
    if (!current || !sameIdentity(current, identity)) return Promise.resolve(null);

    const child = libuvChild(identity.pid);
    if (child) {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve(exitInfoFromNode(child.exitCode, child.signalCode));
          return;
        }
        child.once('exit', (code, signal) => resolve(exitInfoFromNode(code, signal)));
      });
    }

    return new Promise((resolve) => {
      let pidfd: number | null = null;
      const native = getNative();
      if (native) {
        try {
          pidfd = native.pidfdOpen(identity.pid);
          const again = identify(identity.pid);
          if (!again || !sameIdentity(again, identity)) {
            native.close(pidfd);
            resolve(null);
            return;
          }
        } catch {
          pidfd = null; // gone already, or no pidfd support: /proc checks below still work
        }
      }
      const list = this.waiters.get(k) ?? [];
      list.push({ identity, pidfd, resolve });
      this.waiters.set(k, list);
      this.updateWatchTimer();
      setImmediate(() => this.tick());
    });
  }

  /** the status of a recently reaped orphan, if still cached */
  recentExit(identity: ProcessIdentity): ExitInfo | undefined {
    return this.recent.get(identityKey(identity));
  }
}

/** the process-wide reaper (there is one SIGCHLD and one set of children per process) */
export const reaper = new Reaper();
