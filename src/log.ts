// One pino logger for the daemon: structured JSON lines, one per event that matters.
import fs from 'node:fs';
import { pino, type Logger, type Level } from 'pino';

export type { Logger };

/**
 * Log lines collected and written together with one write(2), in order: at most MAX_DELAY_MS after
 * the first of them, or at once when MAX_PENDING_BYTES are waiting. A line per signal or job must
 * not cost a syscall inside the D-Bus call it reports on (a KillUnit reply waited for its log
 * line's write), nor one per call while calls stream in (a write per event-loop turn was 3% of a
 * KillUnit round trip); an asynchronous destination is worse: it hands every line to the libuv
 * thread pool and back. Each line carries the time it was logged, not written. The bus layer
 * flushes before every signal and at every announcement of a unit's change (src/bus/). Lines still
 * pending when the process exits are written from the 'exit' handler.
 */
const MAX_DELAY_MS = 10;
const MAX_PENDING_BYTES = 16 * 1024;
const open = new Set<BufferedLogDestination>();
let exitHooked = false;

export class BufferedLogDestination {
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly fd: number) {
    open.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', () => {
        for (const d of open) d.flushSync();
      });
    }
  }

  write(line: string): boolean {
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= MAX_PENDING_BYTES) this.flushSync();
    else if (!this.timer) this.timer = setTimeout(() => this.flushSync(), MAX_DELAY_MS).unref(); // the exit handler writes what is left
    return true;
  }

  flushSync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    let data = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
    while (data.length > 0) {
      try {
        data = data.subarray(fs.writeSync(this.fd, data));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // a non-blocking pipe that is full: wait for the reader, as a blocking write would
        if (code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        else return; // nowhere to log to (EPIPE, EBADF): the lines are dropped, the daemon goes on
      }
    }
  }

  /** pino's logger.flush(cb) */
  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    cb?.();
  }
}

export function createLogger(level: Level | 'silent' = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { name: 'unitd' } }, destination ?? new BufferedLogDestination(1));
}
