// One pino logger for the daemon: structured JSON lines, one per event that matters.
import fs from 'node:fs';
import { pino, type Logger, type Level } from 'pino';

export type { Logger };

/**
 * Log lines written with one write(2) per event-loop turn, at its end (setImmediate), in order.
 * A line per signal or job must not cost a syscall inside the D-Bus call it reports on (a
 * KillUnit reply waited for its log line's write), and an asynchronous destination is worse: it
 * hands every line to the libuv thread pool and back. Lines still pending when the process exits
 * are written from the 'exit' handler.
 */
const open = new Set<TurnBufferedDestination>();
let exitHooked = false;

export class TurnBufferedDestination {
  private pending: string[] = [];
  private scheduled = false;

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
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flushSync();
      });
    }
    return true;
  }

  flushSync(): void {
    if (this.pending.length === 0) return;
    let data = Buffer.from(this.pending.join(''));
    this.pending = [];
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
  return pino({ level, base: { name: 'unitd' } }, destination ?? new TurnBufferedDestination(1));
}
