// Reading a file named by configuration inside the daemon. Anything but a regular file of bounded
// size can stall or exhaust the event loop: a FIFO blocks open() and read() until a writer comes,
// /dev/zero and /dev/urandom never end. So the file is opened without blocking (O_NONBLOCK: a FIFO
// opens at once), looked at with fstat() on that same descriptor (no race with a rename), and only
// a regular file is read, never more than the bound. systemd 252 reads such files with
// read_full_stream() and its READ_FULL_BYTES_MAX, and treats any character device as empty
// (null_or_empty(), the rule behind masks); it would still block on a FIFO, which unitd refuses.
import fs from 'node:fs';

/** systemd 252's READ_FULL_BYTES_MAX (src/basic/fileio.h): the most read_full_*() reads of a file. */
export const READ_FULL_BYTES_MAX = 64 * 1024 * 1024 - 1;

/**
 * What was found at the path: a regular file's bytes, or a character device (never read; `rdev`
 * says which one, e.g. to tell /dev/null from /dev/zero).
 */
export type BoundedRead = { kind: 'regular'; data: Buffer; uid: number } | { kind: 'char-device'; uid: number; rdev: number };

/**
 * The errnos a refusal carries, those systemd 252 uses for the same cases: E2BIG for a file over
 * READ_FULL_BYTES_MAX (read_full_stream_full()), and stat_verify_regular()'s EISDIR for a directory
 * and EBADFD for any other file that is not a regular file (FIFO, socket, block device).
 */
export type FileReadErrno = 'E2BIG' | 'EISDIR' | 'EBADFD';

/** An error with the errno name the caller reports, as Node's own fs errors carry one. */
export class FileReadError extends Error {
  constructor(
    readonly code: FileReadErrno,
    /** what the file is, for a log line: "a FIFO, not a regular file", "larger than N bytes" */
    readonly detail: string,
    path: string,
  ) {
    super(`${path} is ${detail}`);
  }
}

/** strerror() of the codes this module raises, for messages in systemd's "...: %m" form. */
const STRERROR: Record<FileReadErrno, string> = {
  E2BIG: 'Argument list too long',
  EISDIR: 'Is a directory',
  EBADFD: 'File descriptor in bad state',
};

function describeType(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'something else';
}

/**
 * Opens `path` (following symlinks) and reads it if it is a regular file of at most `limit` bytes.
 * A character device is reported, not read. A directory (EISDIR), FIFO, socket or block device
 * (EBADFD), or a file over the limit, also one that grew past it while being read (E2BIG), throws
 * FileReadError; open/read errors are Node's own (code ENOENT, EACCES, ENXIO for a socket, ...).
 * Never blocks on the file's kind.
 */
export function readBoundedFile(path: string, limit: number = READ_FULL_BYTES_MAX, opts: { noFollow?: boolean } = {}): BoundedRead {
  // (libuv adds O_CLOEXEC to every open itself); noFollow: a symlink as the last component is ELOOP
  const flags = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY | (opts.noFollow ? fs.constants.O_NOFOLLOW : 0);
  const fd = fs.openSync(path, flags);
  try {
    const st = fs.fstatSync(fd);
    if (st.isCharacterDevice()) return { kind: 'char-device', uid: st.uid, rdev: st.rdev };
    if (st.isDirectory()) throw new FileReadError('EISDIR', 'a directory', path);
    if (!st.isFile()) throw new FileReadError('EBADFD', `${describeType(st)}, not a regular file`, path);
    const tooLarge = (): FileReadError => new FileReadError('E2BIG', `larger than ${limit} bytes`, path);
    if (st.size > limit) throw tooLarge();
    // read to the end rather than st.size bytes (a file may be changed meanwhile), one byte past
    // the limit at most, to tell "exactly the limit" from "more"
    const chunks: Buffer[] = [];
    let total = 0;
    let chunk = Buffer.allocUnsafe(Math.min(Math.max(st.size + 1, 4096), limit + 1));
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, limit + 1 - total), null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > limit) throw tooLarge();
      if (n === chunk.length) chunk = Buffer.allocUnsafe(Math.min(chunk.length * 2, limit + 1 - total));
      else chunk = chunk.subarray(n);
    }
    return { kind: 'regular', data: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total), uid: st.uid };
  } finally {
    fs.closeSync(fd);
  }
}

/** The reason for a log line: the "%m" text, and for a file refused here what it is. */
export function readFailureReason(err: unknown): string {
  if (err instanceof FileReadError && err.code !== 'EISDIR') return `${readErrorText(err)} (${err.detail})`;
  return readErrorText(err);
}

/** The "%m" text of an error from readBoundedFile() or from Node's fs. */
export function readErrorText(err: unknown): string {
  if (err instanceof FileReadError) return STRERROR[err.code];
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') {
    // Node's message is "ENOENT: no such file or directory, open '/x'": the part after the code
    const m = /^[A-Z0-9]+: ([^,]+)/.exec(e.message);
    if (m) return m[1]!.charAt(0).toUpperCase() + m[1]!.slice(1);
  }
  return String((err as Error)?.message ?? err);
}
