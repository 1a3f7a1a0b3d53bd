// One pino logger for the daemon: structured JSON lines, one per event that matters.
import { pino, type Logger, type Level } from 'pino';

export type { Logger };

export function createLogger(level: Level | 'silent' = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { name: 'unitd' } }, destination ?? pino.destination({ fd: 1, sync: false }));
}
