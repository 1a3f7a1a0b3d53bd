// Signalling a process identity without PID-reuse races.
//
// With pidfds: open a pidfd for the PID, then check /proc/PID/stat's start time. If it matches, the
// pidfd refers to the identity's process (the identity existed before the open, and a PID cannot be
// reused while its process lives), so pidfd_send_signal cannot hit a newcomer even if the process
// dies and the PID is recycled in between. Verified pidfds are kept for the next signal. A child
// libuv has not reaped yet needs none of this: its PID cannot have been reused. Without pidfds:
// check the start time, then kill() — a tiny window remains, which is the best Node can do.

import { spawnSync } from 'node:child_process';
import type { ProcessIdentity } from './types.js';
import { getNative, type NativeError } from './native.js';
import { identityKey, readStat } from './proc-stat.js';
import { isUnreapedChild } from './spawn-registry.js';

function codedError(message: string, code: string): Error & { code: string } {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  return e;
}

function matches(identity: ProcessIdentity): boolean {
  const st = readStat(identity.pid);
  return st !== null && st.startTime === identity.startTime;
}

/**
 * Verified pidfds, kept open: a pidfd refers to its process for good (once that process is gone
 * every send answers ESRCH), so after one start-time check a signal costs a single syscall. Bounded,
 * oldest closed first; pidfds are opened close-on-exec, so children never inherit them.
 */
const verified = new Map<string, number>();
const VERIFIED_MAX = 256;

function forget(k: string): void {
  const fd = verified.get(k);
  if (fd === undefined) return;
  verified.delete(k);
  getNative()?.close(fd);
}

function verifiedPidfd(identity: ProcessIdentity): number | false | 'fallback' {
  const native = getNative();
  if (!native) return 'fallback';
  const k = identityKey(identity);
  const cached = verified.get(k);
  if (cached !== undefined) {
    verified.delete(k);
    verified.set(k, cached);
    return cached;
  }
  let fd: number;
  try {
    fd = native.pidfdOpen(identity.pid);
  } catch (e) {
    const code = (e as NativeError).code;
    if (code === 'ESRCH') return false;
    if (code === 'ENOSYS' || code === 'EINVAL') return 'fallback';
    throw e;
  }
  // the identity existed before the open and a PID is not reused while its process lives: if the
  // start time still matches now, the pidfd is the identity's process
  if (!matches(identity)) {
    native.close(fd);
    return false;
  }
  verified.set(k, fd);
  if (verified.size > VERIFIED_MAX) forget(verified.keys().next().value!);
  return fd;
}

function viaPidfd(identity: ProcessIdentity, send: (pidfd: number) => void): boolean | 'fallback' {
  const fd = verifiedPidfd(identity);
  if (fd === false || fd === 'fallback') return fd;
  try {
    send(fd);
  } catch (e) {
    const code = (e as NativeError).code;
    if (code === 'ESRCH') {
      forget(identityKey(identity));
      return false;
    }
    if (code === 'ENOSYS') return 'fallback';
    throw e;
  }
  return true;
}

function validate(identity: ProcessIdentity, signal: number): void {
  if (!Number.isInteger(signal) || signal < 0 || signal > 64) throw codedError(`invalid signal ${signal}`, 'EINVAL');
  if (!Number.isInteger(identity.pid) || identity.pid <= 0) throw codedError(`invalid pid ${identity.pid}`, 'EINVAL');
}

/** kill(2) semantics on an identity; false when gone/recycled; throws (with .code) otherwise */
export function signalIdentity(identity: ProcessIdentity, signal: number): boolean {
  validate(identity, signal);
  // an unreaped child takes one plain kill(2), no pidfd needed (see isUnreapedChild)
  if (!isUnreapedChild(identity.pid, identity.startTime)) {
    const r = viaPidfd(identity, (fd) => getNative()!.pidfdSendSignal(fd, signal));
    if (r !== 'fallback') return r;
    if (!matches(identity)) return false;
  }
  try {
    process.kill(identity.pid, signal);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    throw codedError(`kill(${identity.pid}, ${signal}) failed: ${code}`, code ?? 'EIO');
  }
}

/** sigqueue(3) semantics (int value) on an identity; same rules as signalIdentity */
export function queueSignalIdentity(identity: ProcessIdentity, signal: number, value: number): boolean {
  validate(identity, signal);
  const native = getNative();
  const r = viaPidfd(identity, (fd) => native!.pidfdQueueSignal(fd, signal, value));
  if (r !== 'fallback') return r;
  if (!matches(identity)) return false;
  if (native) {
    try {
      native.sigqueue(identity.pid, signal, value);
      return true;
    } catch (e) {
      const code = (e as NativeError).code;
      if (code === 'ESRCH') return false;
      throw e;
    }
  }
  // No FFI at all: util-linux/procps kill(1) can sigqueue (-q VALUE).
  const res = spawnSync('kill', ['-s', String(signal), '-q', String(value | 0), String(identity.pid)], {
    stdio: 'ignore',
  });
  if (res.status === 0) return true;
  if (!matches(identity)) return false;
  throw codedError(`sigqueue(${identity.pid}, ${signal}) failed`, 'EPERM');
}
