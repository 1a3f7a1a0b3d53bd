// The few Linux system calls that Node.js does not expose, called through koffi (a foreign-function
// interface whose npm package carries its prebuilt binary, so nothing is compiled at install time).
//
// Why native calls are needed at all:
//  - prctl(PR_SET_CHILD_SUBREAPER): without it, a process that double-forks out of a unit is
//    re-parented to PID 1 (or the nearest subreaper) and unitd can neither reap it nor learn how its
//    main process ended. Node has no prctl.
//  - pidfd_open / pidfd_send_signal: the only race-free way to signal a PID that may have been
//    recycled since we looked at it. process.kill() takes a bare PID.
//  - pidfd_send_signal with a siginfo (SI_QUEUE): sigqueue(3) semantics (an int value travels with
//    the signal) through the same pidfd; libc sigqueue() is the fallback. Node has neither.
//  - waitpid(pid, WNOHANG): libuv only reaps children it spawned itself; orphans re-parented to us
//    must be reaped by PID here, or they stay zombies. Node has no wait call.
//  - poll(2) with a 0 timeout: tells whether a pidfd became readable (the process ended) for
//    processes that are not our children and so never cause SIGCHLD.
//  - fcntl(F_SETFD): marks descriptors unitd inherited close-on-exec (see inherited-fds.ts).
//  - flock(2): the runtime directory's lock (bus/runtime-lock.ts), which the kernel drops when unitd
//    dies however it dies, so a stale lock never needs a liveness guess. Node has no file locks.
//
// Everything degrades: when koffi or libc cannot be loaded, `native` is null and callers fall back
// to /proc checks + process.kill (with the identity check done just before).

import { createRequire } from 'node:module';

const SYS_PIDFD_SEND_SIGNAL = 424; // same number on x86_64 and aarch64 (unified syscall table)
const SYS_PIDFD_OPEN = 434;
const PR_SET_CHILD_SUBREAPER = 36;
const PR_GET_CHILD_SUBREAPER = 37;
export const WNOHANG = 1;
const WEXITED = 4;
const WNOWAIT = 0x01000000;
const P_ALL = 0;
const P_PID = 1;
const POLLIN = 0x1;
const SI_QUEUE = -1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;

export interface NativeError extends Error {
  code: string;
  errno: number;
}

/** errno number → symbolic name, for the errors callers are expected to act on */
const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 3: 'ESRCH', 4: 'EINTR', 9: 'EBADF', 10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES',
  16: 'EBUSY', 22: 'EINVAL', 24: 'EMFILE', 38: 'ENOSYS', 95: 'EOPNOTSUPP',
};

export function errnoError(syscallName: string, errno: number): NativeError {
  const code = ERRNO_NAMES[errno] ?? `E${errno}`;
  const err = new Error(`${syscallName} failed: ${code}`) as NativeError;
  err.code = code;
  err.errno = errno;
  return err;
}

/** waitpid(2) status word, decoded into waitid-style si_code/si_status */
export function decodeWaitStatus(status: number): { code: 1 | 2 | 3; status: number } {
  const termSig = status & 0x7f;
  if (termSig === 0) return { code: 1, status: (status >> 8) & 0xff };
  return { code: (status & 0x80) !== 0 ? 3 : 2, status: termSig };
}

export interface Native {
  setChildSubreaper(on: boolean): void;
  isChildSubreaper(): boolean;
  /** a pidfd, or throws NativeError (ESRCH when the process is gone, ENOSYS on old kernels) */
  pidfdOpen(pid: number): number;
  /** pidfd_send_signal(fd, sig, NULL, 0); throws NativeError */
  pidfdSendSignal(pidfd: number, signal: number): void;
  /** pidfd_send_signal with an SI_QUEUE siginfo carrying `value` (sigqueue semantics); throws */
  pidfdQueueSignal(pidfd: number, signal: number, value: number): void;
  /** libc sigqueue(pid, sig, {sival_int: value}); throws NativeError */
  sigqueue(pid: number, signal: number, value: number): void;
  /** waitid(P_PID, pid, WEXITED|WNOHANG|WNOWAIT): has this child exited (a zombie)? Reaps nothing. */
  childHasExited(pid: number): boolean;
  /**
   * waitid(P_ALL, WEXITED|WNOHANG|WNOWAIT): the PID of a child that has exited (a zombie), 0 when
   * none has (or there are no children). Reaps nothing.
   */
  nextExitedChild(): number;
  /** waitpid(pid, &status, WNOHANG): null when the child has not changed state; throws (ECHILD…) */
  waitpidNoHang(pid: number): { code: 1 | 2 | 3; status: number } | null;
  /** which of the fds are readable right now (poll with a 0 timeout) */
  pollReadable(fds: number[]): Set<number>;
  close(fd: number): void;
  /** fcntl(fd, F_SETFD, FD_CLOEXEC); throws NativeError */
  setCloseOnExec(fd: number): void;
  /** flock(fd, operation); throws NativeError (EAGAIN: LOCK_NB and another holds it) */
  flock(fd: number, operation: number): void;
}

function load(): Native | null {
  let koffi: typeof import('koffi');
  try {
    // koffi is CommonJS; createRequire keeps this module loadable even where koffi is absent.
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch {
    return null;
  }
  let libc: ReturnType<typeof koffi.load>;
  try {
    libc = koffi.load('libc.so.6');
  } catch {
    return null;
  }
  const prctl = libc.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)');
  const prctlPtr = libc.func('prctl', 'int', ['int', 'void *', 'unsigned long', 'unsigned long', 'unsigned long']);
  const syscall = libc.func('long syscall(long, ...)');
  const waitpid = libc.func('int waitpid(int, _Out_ int *, int)');
  const waitid = libc.func('int waitid(int, int, void *, int)');
  const poll = libc.func('int poll(void *, unsigned long, int)');
  const closeFn = libc.func('int close(int)');
  const fcntl = libc.func('int fcntl(int, int, ...)');
  const flockFn = libc.func('int flock(int, int)');
  // union sigval is passed by value in one integer register on x86_64 and aarch64: an intptr_t
  // whose low 32 bits are sival_int is ABI-identical.
  const sigqueueFn = libc.func('int sigqueue(int, int, intptr_t)');
  const errno = (): number => koffi.errno();

  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const waitInfo = Buffer.alloc(128); // siginfo_t for nextExitedChild

  return {
    setChildSubreaper(on) {
      if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) !== 0) throw errnoError('prctl', errno());
    },
    isChildSubreaper() {
      const out = Buffer.alloc(4);
      if (prctlPtr(PR_GET_CHILD_SUBREAPER, out, 0, 0, 0) !== 0) throw errnoError('prctl', errno());
      return out.readInt32LE(0) !== 0;
    },
    pidfdOpen(pid) {
      const fd = Number(syscall(SYS_PIDFD_OPEN, 'int', pid, 'uint', 0));
      if (fd < 0) throw errnoError('pidfd_open', errno());
      return fd;
    },
    pidfdSendSignal(pidfd, signal) {
      const r = Number(syscall(SYS_PIDFD_SEND_SIGNAL, 'int', pidfd, 'int', signal, 'void *', null, 'uint', 0));
      if (r < 0) throw errnoError('pidfd_send_signal', errno());
    },
    pidfdQueueSignal(pidfd, signal, value) {
      // siginfo_t (128 bytes) as rt_sigqueueinfo/sigqueue(3) fill it on 64-bit Linux:
      // si_signo@0, si_errno@4, si_code@8, then the union at 16: si_pid@16, si_uid@20, si_value@24.
      const info = Buffer.alloc(128);
      info.writeInt32LE(signal, 0);
      info.writeInt32LE(SI_QUEUE, 8);
      info.writeInt32LE(process.pid, 16);
      info.writeUInt32LE(uid >>> 0, 20);
      info.writeInt32LE(value | 0, 24);
      const r = Number(syscall(SYS_PIDFD_SEND_SIGNAL, 'int', pidfd, 'int', signal, 'void *', info, 'uint', 0));
      if (r < 0) throw errnoError('pidfd_send_signal', errno());
    },
    sigqueue(pid, signal, value) {
      if (sigqueueFn(pid, signal, value | 0) !== 0) throw errnoError('sigqueue', errno());
    },
    childHasExited(pid) {
      // siginfo_t: si_pid at offset 16 stays 0 when the child has not exited
      const info = Buffer.alloc(128);
      const r = waitid(P_PID, pid, info, WEXITED | WNOHANG | WNOWAIT) as number;
      if (r < 0) return false;
      return info.readInt32LE(16) !== 0;
    },
    nextExitedChild() {
      waitInfo.writeInt32LE(0, 16); // si_pid stays 0 when nothing has exited (waitid(2), NOTES)
      const r = waitid(P_ALL, 0, waitInfo, WEXITED | WNOHANG | WNOWAIT) as number;
      if (r < 0) return 0;
      return waitInfo.readInt32LE(16); // si_pid; 0 when no child has exited (WNOHANG)
    },
    waitpidNoHang(pid) {
      const status = [0];
      const r = waitpid(pid, status, WNOHANG) as number;
      if (r < 0) throw errnoError('waitpid', errno());
      if (r === 0) return null;
      return decodeWaitStatus(status[0]!);
    },
    pollReadable(fds) {
      const result = new Set<number>();
      if (fds.length === 0) return result;
      const buf = Buffer.alloc(8 * fds.length); // struct pollfd { int fd; short events; short revents; }
      fds.forEach((fd, i) => {
        buf.writeInt32LE(fd, i * 8);
        buf.writeInt16LE(POLLIN, i * 8 + 4);
      });
      const r = poll(buf, fds.length, 0) as number;
      if (r < 0) throw errnoError('poll', errno());
      fds.forEach((fd, i) => {
        if (buf.readInt16LE(i * 8 + 6) !== 0) result.add(fd);
      });
      return result;
    },
    close(fd) {
      closeFn(fd);
    },
    setCloseOnExec(fd) {
      if ((fcntl(fd, F_SETFD, 'int', FD_CLOEXEC) as number) < 0) throw errnoError('fcntl', errno());
    },
    flock(fd, operation) {
      if ((flockFn(fd, operation) as number) < 0) throw errnoError('flock', errno());
    },
  };
}

let cached: Native | null | undefined;

/** the native bindings, or null where koffi/libc is unavailable (callers must fall back) */
export function getNative(): Native | null {
  if (cached === undefined) cached = load();
  return cached;
}
