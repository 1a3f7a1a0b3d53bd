// The one place that knows which child processes belong to libuv.
//
// unitd is a child subreaper, so it collects orphans that libuv never heard of; the reaper must
// reap those with waitpid(pid) — but it must NEVER reap a process libuv spawned, or libuv's own
// per-PID waitpid finds nothing and the ChildProcess 'exit' event never fires.
//
// Every child started through Node's child_process is registered here from the moment spawn()
// returns until its 'exit' event. unitd code should spawn through `spawnRegistered`; as a safety
// net, `installSpawnHook` also wraps ChildProcess.prototype.spawn, which every asynchronous
// child_process entry point (spawn, exec, execFile, fork) goes through, so a stray execFile elsewhere
// in the process is still recorded. (spawnSync/execSync reap their own child before returning and
// never let the event loop — hence the reaper — run in between.)

import { ChildProcess, spawn as nodeSpawn } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';

const owned = new Map<number, ChildProcess>();
/** start times (from /proc/PID/stat, read right after spawn) of the children that have one */
const startTimes = new WeakMap<ChildProcess, bigint>();

function track(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return; // spawn failed: 'error' is emitted, nothing to reap
  if (owned.get(pid) === child) return;
  owned.set(pid, child);
  child.once('exit', () => {
    if (owned.get(pid) === child) owned.delete(pid);
  });
}

let hooked = false;

/** wraps ChildProcess.prototype.spawn so every async child_process spawn in this process is known */
export function installSpawnHook(): void {
  if (hooked) return;
  hooked = true;
  const proto = ChildProcess.prototype as unknown as { spawn: (this: ChildProcess, ...a: unknown[]) => unknown };
  const original = proto.spawn;
  proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
    const r = original.apply(this, args);
    track(this);
    return r;
  };
}

/** child_process.spawn, registered (use this for every child unitd starts) */
export function spawnRegistered(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  installSpawnHook();
  const child = nodeSpawn(command, args, options);
  track(child); // idempotent with the hook
  return child;
}

/** true while libuv owns (will reap) this PID */
export function isLibuvOwned(pid: number): boolean {
  return owned.has(pid);
}

export function libuvOwnedCount(): number {
  return owned.size;
}

/** records a child's start time, which makes isUnreapedChild() able to recognise it */
export function recordStartTime(child: ChildProcess, startTime: bigint): void {
  startTimes.set(child, startTime);
}

/**
 * True when the identity is a child libuv spawned and has not reaped: its PID cannot have been
 * reused (a PID stays taken until its process is reaped, and libuv reaps only between event-loop
 * turns), so a plain kill(2) by PID reaches exactly this process.
 */
export function isUnreapedChild(pid: number, startTime: bigint): boolean {
  const child = owned.get(pid);
  return child !== undefined && child.exitCode === null && child.signalCode === null && startTimes.get(child) === startTime;
}

/** the ChildProcess libuv owns under this PID, if any */
export function libuvChild(pid: number): ChildProcess | undefined {
  return owned.get(pid);
}

// Installed as soon as this module is loaded, so children spawned by any code that runs after
// unitd's first import of src/processes are known. (Children that existed before are handled by the
// reaper's start-up snapshot.)
installSpawnHook();
