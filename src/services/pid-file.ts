// Reading a service's PIDFile= as systemd 252 does (service_load_pid_file, src/core/service.c):
// the path is resolved with chase_symlinks(CHASE_SAFE) first, which refuses a chain that passes
// from a file or directory of one non-root user to one of another user or root (an unprivileged
// user must not be able to point us at a file that merely looks trusted); such a chain is then
// resolved without the check but remembered as questionable. The first line is parsed as a PID.
// Whether that PID is accepted is the caller's question (service_is_suitable_main_pid); what it
// needs from here is the file's owner and whether the path was questionable.
import fs from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { safeAtou64 } from '../units/values.js';
import { readBoundedFile, readErrorText } from '../util/bounded-read.js';
import { LONG_LINE_MAX } from '../units/syntax.js';

/** CHASE_SYMLINKS_MAX (src/basic/chase-symlinks.h): symlinks followed before ELOOP. */
const CHASE_SYMLINKS_MAX = 32;

/**
 * An errno from resolving and opening the file (`stage` "open": systemd's "Can't open PID file")
 * or from its content ("parse": "Failed to parse PID from file"), with the "%m" text.
 */
export class PidFileError extends Error {
  constructor(
    readonly stage: 'open' | 'parse',
    readonly code: string,
    text: string,
  ) {
    super(text);
  }
}

/**
 * unsafe_transition() (src/basic/chase-symlinks.c): from a root-owned file anything is fine;
 * otherwise the next file must have the same owner.
 */
function unsafeTransition(from: fs.Stats, to: fs.Stats): boolean {
  if (from.uid === 0) return false;
  return from.uid !== to.uid;
}

function errnoOf(err: unknown): PidFileError {
  return new PidFileError('open', (err as NodeJS.ErrnoException).code ?? 'EIO', readErrorText(err));
}

/**
 * chase_symlinks() without a root: the path with every symlink resolved. With `safe`, an unsafe
 * transition throws ENOLINK, as CHASE_SAFE makes it. Walks by path (Node has no openat/O_PATH);
 * the final open refuses a symlink, and the owner that decides trust is read from that open file.
 */
export function chasePath(path: string, safe: boolean): string {
  if (!isAbsolute(path)) throw new PidFileError('open', 'EINVAL', 'Invalid argument');
  const stat = (p: string, follow: boolean): fs.Stats => {
    try {
      return follow ? fs.statSync(p) : fs.lstatSync(p);
    } catch (err) {
      throw errnoOf(err);
    }
  };
  let previous = stat('/', true);
  let done = '/';
  let todo = path.split('/');
  let follow = CHASE_SYMLINKS_MAX;
  while (todo.length > 0) {
    const first = todo.shift()!;
    if (first === '' || first === '.') continue;
    if (first === '..') {
      if (done === '/') continue;
      done = done.slice(0, done.lastIndexOf('/')) || '/';
      const st = stat(done, true);
      if (safe && unsafeTransition(previous, st)) throw new PidFileError('open', 'ENOLINK', 'Link has been severed');
      previous = st;
      continue;
    }
    const next = join(done, first);
    const st = stat(next, false);
    if (safe && unsafeTransition(previous, st)) throw new PidFileError('open', 'ENOLINK', 'Link has been severed');
    previous = st;
    if (st.isSymbolicLink()) {
      if (--follow <= 0) throw new PidFileError('open', 'ELOOP', 'Too many levels of symbolic links');
      let destination: string;
      try {
        destination = fs.readlinkSync(next);
      } catch (err) {
        throw errnoOf(err);
      }
      if (destination === '') throw new PidFileError('open', 'EINVAL', 'Invalid argument');
      if (isAbsolute(destination)) {
        const root = stat('/', true);
        if (safe && unsafeTransition(previous, root)) throw new PidFileError('open', 'ENOLINK', 'Link has been severed');
        previous = root;
        done = '/';
      }
      todo = [...destination.split('/'), ...todo];
      continue;
    }
    done = next;
  }
  return done;
}

export interface PidFileContent {
  pid: number;
  /** owner of the file that was read (fstat of the open file) */
  ownerUid: number;
  /** reached only through a symlink chain CHASE_SAFE refused */
  questionable: boolean;
}

/**
 * The PID a PID file names. Throws PidFileError for a file that cannot be opened ("open" in
 * `stage`) or does not hold a PID ("parse"), with the text of systemd's "%m".
 */
export function readPidFile(path: string): PidFileContent {
  let questionable = false;
  let resolved: string;
  try {
    resolved = chasePath(path, true);
  } catch (err) {
    if (!(err instanceof PidFileError) || err.code !== 'ENOLINK') throw err;
    questionable = true;
    resolved = chasePath(path, false);
  }
  let content;
  try {
    // a PID file is one short line; read_one_line_file() stops at LONG_LINE_MAX too. Only a
    // regular file is read: a FIFO would block the daemon, /dev/zero never ends.
    content = readBoundedFile(resolved, LONG_LINE_MAX, { noFollow: true });
  } catch (err) {
    throw errnoOf(err);
  }
  if (content.kind !== 'regular') throw new PidFileError('open', 'EINVAL', 'Not a regular file');
  // read_line(): a line ends at \n, \r or NUL
  const text = content.data.toString('latin1');
  const end = text.search(/[\n\r\0]/);
  const line = end < 0 ? text : text.slice(0, end);
  // parse_pid(): safe_atolu() (C syntax, base 0), then it must fit a pid_t and be > 0
  const value = safeAtou64(line, 0x7fff_ffffn);
  if (value === undefined || value === 0n) {
    const range = value === 0n || safeAtou64(line) !== undefined || /^[ \t\n\r]*-/.test(line);
    throw new PidFileError('parse', range ? 'ERANGE' : 'EINVAL', range ? 'Numerical result out of range' : 'Invalid argument');
  }
  return { pid: Number(value), ownerUid: content.uid, questionable };
}
