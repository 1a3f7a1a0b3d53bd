// The signal scheduler: who gets which signal, for a unit's stop (systemd's unit_kill_context:
// KillMode, KillSignal + SIGCONT, SendSIGHUP) and for a client's kill request (exactly the asked
// signal, no SIGCONT, KillMode not consulted). A signal to a group that holds more than the main
// and control processes goes out while the group is frozen, so nothing forks out of the walk or
// acts half-way; SIGKILL to a whole group uses cgroup.kill. Knows nothing of D-Bus.
import type { Logger } from 'pino';
import type { KillContext } from '../units/types.js';
import { signalName } from '../units/values.js';
import type { MemberListing, ProcessGroup, ProcessIdentity, ProcessTracker } from '../processes/types.js';
import { SIGCONT, SIGHUP, SIGKILL } from './signal-numbers.js';
import { KillRequestError, NO_SUCH_PROCESS, type KillRequest } from './kill-request.js';
import { readFileSync } from 'node:fs';

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'n/a';
  }
}

const ERRNO_ERRORS: Record<string, [string, string]> = {
  ESRCH: ['org.freedesktop.DBus.Error.UnixProcessIdUnknown', 'No such process'],
  EPERM: ['org.freedesktop.DBus.Error.AccessDenied', 'Operation not permitted'],
  EINVAL: ['org.freedesktop.DBus.Error.InvalidArgs', 'Invalid argument'],
};

/** how long a group may take to freeze before its signals go out anyway */
const FREEZE_WAIT_MS = 200;

export type KillOperation = 'terminate' | 'restart' | 'kill' | 'watchdog';

export interface KillTargets {
  unitId: string;
  main: ProcessIdentity | null;
  control: ProcessIdentity | null;
  /** the unit's process group, null when it has none (never started, or removed) */
  group: ProcessGroup | null;
}

/** the PIDs of the main and control processes (signalled by identity, never again in a group walk) */
function knownPids(t: KillTargets): Set<number> {
  const pids = new Set<number>();
  for (const p of [t.main, t.control]) if (p) pids.add(p.pid);
  return pids;
}

export function signalFor(op: KillOperation, kill: KillContext): number {
  switch (op) {
    case 'terminate':
      return kill.killSignal;
    case 'restart':
      return kill.restartKillSignal || kill.killSignal;
    case 'kill':
      return kill.finalKillSignal;
    case 'watchdog':
      return kill.watchdogSignal;
  }
}

/** One failed send, for the caller's error reply. */
export class SignalSendError extends Error {
  constructor(
    readonly target: 'main' | 'control' | 'group',
    readonly errno: string,
    message: string,
  ) {
    super(message);
  }
}

export class SignalScheduler {
  constructor(
    private readonly tracker: ProcessTracker,
    private readonly log: Logger,
  ) {}

  /**
   * Runs fn while the group is frozen (if the kernel can freeze it and nobody froze it before us),
   * thawing in `finally`. Returns fn's result; at once, without a promise, when there is nothing
   * to freeze.
   */
  private frozen<T>(group: ProcessGroup | null, fn: (stable: boolean) => T): T | Promise<T> {
    if (!group || !this.tracker.canFreeze || this.tracker.isEmpty(group)) return fn(false);
    // frozen before we came: leave it so (its members cannot go away under us either)
    if (this.tracker.isFrozen(group)) return fn(true);
    return this.freezeAround(group, fn);
  }

  private async freezeAround<T>(group: ProcessGroup, fn: (stable: boolean) => T): Promise<T> {
    try {
      // A task in uninterruptible sleep (D state) is frozen only once it comes back to user space:
      // do not let it hold the signals (and the stop timeout behind them) forever. Signals sent
      // to a half-frozen group are simply pending until the thaw.
      let timer: NodeJS.Timeout | undefined;
      const settled = await Promise.race([
        this.tracker.freeze(group).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), FREEZE_WAIT_MS))),
      ]);
      clearTimeout(timer);
      if (!settled) {
        this.log.warn({ unit: group.unitId, waitedMs: FREEZE_WAIT_MS }, 'group not frozen in time, signalling it anyway');
        try {
          return fn(false);
        } finally {
          await this.tracker.thaw(group);
        }
      }
    } catch (err) {
      this.log.warn({ unit: group.unitId, err: (err as Error).message }, 'cannot freeze the group, signalling it unfrozen');
      return fn(false);
    }
    try {
      return fn(true);
    } finally {
      await this.tracker.thaw(group);
    }
  }

  /**
   * Signals every process of the group not in `exclude`, re-reading the member list until a pass
   * finds nobody new (the freezer makes one pass enough; without it, forks during the walk are
   * caught by the next pass). `listed`: the group was read before the known processes were
   * signalled, so the walk starts with a re-read for forks. Returns the PIDs signalled.
   */
  private signalMembers(
    group: ProcessGroup,
    signal: number,
    exclude: Set<number>,
    alsoCont: boolean,
    stable = false,
    listed: MemberListing | null = null,
  ): number[] {
    const seen = new Set(exclude);
    seen.add(process.pid);
    const sent: number[] = [];
    const listing = listed ?? this.tracker.members(group);
    let pids = listed ? listed.again() : listing.pids;
    for (;;) {
      let fresh = 0;
      for (const pid of pids) {
        if (seen.has(pid)) continue;
        seen.add(pid);
        fresh++;
        if (stable) {
          // Read from a frozen group: nobody in it can exit and be reaped while this synchronous
          // loop runs (a member killed by the signal stays a zombie: its parent is frozen, or is
          // unitd, which reaps only between event-loop turns), so the PID is still this process.
          try {
            process.kill(pid, signal);
            sent.push(pid);
            if (alsoCont && signal !== SIGCONT && signal !== SIGKILL) process.kill(pid, SIGCONT);
          } catch {
            // gone already: skipped, as cg_kill does
          }
          continue;
        }
        const identity = listing.identityOf?.(pid) ?? this.tracker.identify(pid);
        if (!identity) continue;
        try {
          if (this.tracker.signal(identity, signal)) {
            sent.push(pid);
            if (alsoCont && signal !== SIGCONT && signal !== SIGKILL) this.tracker.signal(identity, SIGCONT);
          }
        } catch {
          // a member that cannot be signalled is skipped, as cg_kill does
        }
      }
      if (fresh === 0) return sent;
      pids = listing.again();
    }
  }

  /**
   * How a walk of the group goes: frozen, or, for a group that holds nobody but the known (main
   * and control) processes, unfrozen from the listing just read. Such a group needs no freeze
   * round trip: nobody can act half-way, and a child forked meanwhile is still caught by the walk,
   * which re-reads the group after the known processes were signalled. (Only read where the group
   * can be frozen at all: the /proc tracker's read is a scan of /proc.)
   */
  private planWalk(group: ProcessGroup | null, known: Set<number>): { freeze: ProcessGroup | null; listed: MemberListing | null } {
    if (!group || !this.tracker.canFreeze) return { freeze: null, listed: null };
    const listing = this.tracker.members(group);
    return listing.pids.every((pid) => known.has(pid)) ? { freeze: null, listed: listing } : { freeze: group, listed: null };
  }

  private sendPlain(p: ProcessIdentity, signal: number): boolean {
    try {
      return this.tracker.signal(p, signal);
    } catch {
      return false;
    }
  }

  private sendWithCont(p: ProcessIdentity, signal: number): boolean {
    let ok = false;
    try {
      ok = this.tracker.signal(p, signal);
      if (ok && signal !== SIGCONT && signal !== SIGKILL) this.tracker.signal(p, SIGCONT);
    } catch {
      ok = false;
    }
    return ok;
  }

  /**
   * The stop path (systemd's unit_kill_context). Returns true when something was signalled that
   * is worth waiting for (a main or control process, or members left in the group).
   */
  async killForStop(op: KillOperation, kill: KillContext, t: KillTargets): Promise<boolean> {
    if (kill.killMode === 'none') return false;
    const signal = signalFor(op, kill);
    const hup = kill.sendSIGHUP && op === 'terminate' && signal !== SIGHUP;
    const wholeGroup = kill.killMode === 'control-group' || (kill.killMode === 'mixed' && op === 'kill');
    let wait = false;
    let count = 0;

    if (t.group && this.tracker.isFrozen(t.group)) await this.tracker.thaw(t.group);

    if (wholeGroup && t.group && signal === SIGKILL && this.tracker.canKillGroup) {
      // one write kills every member, and every fork racing with it
      const members = this.tracker.pids(t.group).length;
      this.tracker.killGroup(t.group);
      for (const p of [t.main, t.control]) if (p && this.sendWithCont(p, signal)) wait = true;
      count = members;
      if (members > 0) wait = true;
    } else {
      const known = knownPids(t);
      const walk = this.planWalk(wholeGroup ? t.group : null, known);
      await this.frozen(walk.freeze, (stable) => {
        for (const p of [t.control, t.main]) {
          if (!p) continue;
          if (this.sendWithCont(p, signal)) {
            count++;
            wait = true;
            // SendSIGHUP: a plain SIGHUP right behind, no second SIGCONT (unit_kill_context)
            if (hup) this.sendPlain(p, SIGHUP);
          }
        }
        if (wholeGroup && t.group) {
          const sent = this.signalMembers(t.group, signal, known, true, stable, walk.listed);
          count += sent.length;
          // members were signalled: worth waiting for their exit (systemd: cg_kill_recursive > 0 on
          // the unified hierarchy), even if they are already gone by the time we look
          if (sent.length > 0) wait = true;
          if (hup && kill.killMode === 'control-group') this.signalMembers(t.group, SIGHUP, known, false, stable);
        }
      });
      if (wholeGroup && t.group && !this.tracker.isEmpty(t.group)) wait = true;
    }
    if (count > 0) this.log.info({ unit: t.unitId, signal: signalName(signal), op, killMode: kill.killMode, processes: count, sighup: hup }, 'signal sent');
    return wait;
  }

  /**
   * A client's kill request: exactly the asked signal to whom was asked, no SIGCONT, no SIGHUP,
   * no escalation; KillMode is not consulted. Throws KillRequestError as systemd answers.
   */
  async killForClient(req: KillRequest, t: KillTargets): Promise<void> {
    if (req.whom === 'main' && !t.main) throw new KillRequestError(NO_SUCH_PROCESS, 'No main process to kill');
    if (req.whom === 'control' && !t.control) throw new KillRequestError(NO_SUCH_PROCESS, 'No control process to kill');
    let killed = false;
    let failure: KillRequestError | null = null;
    let count = 0;
    const name = signalName(req.signal);

    const sendOne = (p: ProcessIdentity, label: 'main' | 'control'): void => {
      let errno = 'ESRCH';
      try {
        const ok = req.value !== null ? this.tracker.queueSignal(p, req.signal, req.value) : this.tracker.signal(p, req.signal);
        if (ok) {
          killed = true;
          count++;
          return;
        }
      } catch (err) {
        errno = (err as NodeJS.ErrnoException).code ?? 'EIO';
      }
      const [errorName, text] = ERRNO_ERRORS[errno] ?? [`org.freedesktop.DBus.Error.Failed`, errno];
      failure ??= new KillRequestError(errorName, `Failed to send signal ${name} to ${label} process ${p.pid} (${commOf(p.pid)}): ${text}`);
    };

    const walkGroup = req.whom === 'all' && req.value === null && t.group !== null;
    const exclude = knownPids(t);
    const groupKill = walkGroup && req.signal === SIGKILL && this.tracker.canKillGroup;
    const walk = this.planWalk(walkGroup && !groupKill ? t.group : null, exclude);
    await this.frozen(walk.freeze, (stable) => {
      if ((req.whom === 'control' || req.whom === 'all') && t.control) sendOne(t.control, 'control');
      if ((req.whom === 'main' || req.whom === 'all') && t.main) sendOne(t.main, 'main');
      if (walkGroup && t.group) {
        if (groupKill) {
          count += this.tracker.pids(t.group).length;
          this.tracker.killGroup(t.group);
        } else {
          count += this.signalMembers(t.group, req.signal, exclude, false, stable, walk.listed).length;
        }
        // an existing group counts as killed even when empty, as in systemd
        killed = true;
      }
    });
    this.log.info({ unit: t.unitId, signal: name, whom: req.whom, value: req.value ?? undefined, processes: count }, 'signal sent on client request');
    if (failure) throw failure;
    if (req.failIfNothing && !killed) throw new KillRequestError(NO_SUCH_PROCESS, 'No matching processes to kill');
  }
}
