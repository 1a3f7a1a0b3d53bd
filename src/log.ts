// One pino logger for the daemon: structured JSON lines, one per event that matters.
import { pino, type Logger, type Level } from 'pino';

export type { Logger };

// Written synchronously (pino's default): one write(2) per line costs a few µs, where an
// asynchronous destination hands every line to the libuv thread pool and back, which on a
// 2-core machine doubled the daemon's share of a KillUnit round trip (bench/, scenario 1).
export function createLogger(level: Level | 'silent' = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { name: 'unitd' } }, destination ?? pino.destination({ fd: 1, sync: true }));
}
