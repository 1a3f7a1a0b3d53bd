// The runtime directory belongs to one unitd at a time: the embedded bus's socket and config live
// there, and a second unitd that took them over would serve clients in the first one's place and
// delete the first one's socket when it exits (issue 13, item 7).
//
// The lock is flock(2) on <runtime dir>/unitd.lock, held on a descriptor unitd keeps open for its
// whole life. The kernel drops it when the process ends, however it ends (SIGKILL, a crash), so a
// lock left by a dead unitd is never seen as held and needs no liveness guess. A pid file created
// with O_EXCL would need one: a leftover file must be judged stale by whether its PID is alive, and
// two starters can both judge it stale and both proceed, or a recycled PID keeps it "held" forever.
// The file is never unlinked: a starter that opened it just before an unlink would lock an inode no
// one else can find, and two unitds would hold "the" lock. The holder writes its PID into the file,
// only so that a refused starter can name it.
import { chmodSync, closeSync, constants, existsSync, fchmodSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getNative, LOCK_EX, LOCK_NB, type Native, type NativeError } from '../processes/native.js';
import { StartRefusal } from '../start-refusal.js';

export const LOCK_FILE = 'unitd.lock';

export interface RuntimeLock {
  readonly path: string;
  release(): void;
}

/** The lock, or who holds it (null when its PID cannot be read). */
export type LockResult = { lock: RuntimeLock } | { heldBy: number | null };

const euid = (): number => process.geteuid?.() ?? 0;

function readPid(fd: number): number | null {
  const buf = Buffer.alloc(32);
  const n = readSync(fd, buf, 0, buf.length, 0);
  const pid = Number(buf.subarray(0, n).toString('utf8').trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

const isAlive = (pid: number): boolean => existsSync(`/proc/${pid}`);

/**
 * Creates the runtime directory when missing (with `mode`, whatever the umask), refuses one that
 * another user could rearrange under unitd (owned by someone else than unitd or root, or writable
 * by others without the sticky bit), and takes its lock for the life of this process. `native`
 * null is the path taken where koffi cannot be loaded.
 */
export async function lockRuntimeDir(dir: string, mode: number, native: Native | null = getNative()): Promise<LockResult> {
  // every directory made here gets the mode, not what the umask leaves of it: a system bus socket
  // under a 0700 directory would be out of every other user's reach
  const firstMade = mkdirSync(dir, { recursive: true, mode });
  if (firstMade !== undefined) {
    for (let d = resolve(dir); ; d = dirname(d)) {
      chmodSync(d, mode);
      if (d === resolve(firstMade) || d === dirname(d)) break;
    }
  }
  const st = statSync(dir);
  const writableByOthers = (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0; // 0o1000: the sticky bit
  if (!st.isDirectory() || (st.uid !== euid() && st.uid !== 0) || writableByOthers) {
    throw new StartRefusal(
      `the runtime directory ${dir} is not safe for unitd's bus (owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)}): another user could replace its files; choose another --runtime-dir`,
    );
  }
  const path = join(dir, LOCK_FILE);
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted in a shared directory must not make unitd truncate its target
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    throw new StartRefusal(`cannot open the lock file ${path}: ${(err as Error).message}; choose another --runtime-dir`);
  }
  const fst = fstatSync(fd);
  if (!fst.isFile() || fst.uid !== euid()) {
    closeSync(fd);
    throw new StartRefusal(`${path} is not unitd's lock file (owner uid ${fst.uid}); choose another --runtime-dir`);
  }
  if (native) {
    try {
      native.flock(fd, LOCK_EX | LOCK_NB);
    } catch (err) {
      if ((err as NativeError).code !== 'EAGAIN') {
        closeSync(fd);
        throw err;
      }
      // The holder writes its PID right after it locks: give a holder caught in between a moment,
      // so that the refusal names it rather than its dead predecessor (or nobody).
      let holder = readPid(fd);
      for (let i = 0; i < 20 && (holder === null || !isAlive(holder)); i++) {
        await sleep(10);
        holder = readPid(fd);
      }
      closeSync(fd);
      return { heldBy: holder };
    }
  } else {
    // Without koffi there is no flock: the PID in the file is trusted when that process is alive.
    // Racier (two starters can both find it dead), but the socket check still keeps a bus that
    // answers from being replaced.
    const holder = readPid(fd);
    if (holder !== null && holder !== process.pid && isAlive(holder)) {
      closeSync(fd);
      return { heldBy: holder };
    }
  }
  fchmodSync(fd, 0o644);
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  let held = true;
  return {
    lock: {
      path,
      release: () => {
        if (!held) return;
        held = false;
        // emptied, so no later reader takes this PID for a holder; the file stays (see the top)
        ftruncateSync(fd, 0);
        closeSync(fd);
      },
    },
  };
}
