#!/usr/bin/env node
// unitd's entry point: parse the command line, run the daemon, stop cleanly on SIGTERM/SIGINT.
import { runDaemon } from '../daemon.js';
import { createLogger } from '../log.js';
import { StartRefusal } from '../start-refusal.js';
import { parseOptions, USAGE, UsageError, type Options } from './options.js';

async function main(): Promise<void> {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`unitd: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const log = createLogger(opts.logLevel);
  // the daemon never dies of a stray promise: it logs and goes on
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));

  // signal handlers first: a SIGTERM that arrives while starting up stops unitd once it is up
  let daemon: Awaited<ReturnType<typeof runDaemon>> | null = null;
  let stopRequested: string | null = null;
  let stopping = false;
  const stop = (signal: string): void => {
    stopRequested ??= signal;
    if (stopping || !daemon) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void daemon.stop().then(() => {
      log.info('stopped');
      // exit once every buffered log line is written, in order
      log.flush(() => process.exit(0));
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    daemon = await runDaemon(opts, log);
  } catch (err) {
    // For whoever started unitd by hand, one plain line on stderr (the log is JSON on stdout). A
    // refusal is an answer, not a bug: its log line carries the reason and no stack.
    if (err instanceof StartRefusal) {
      process.stderr.write(`unitd: ${err.message}\n`);
      log.fatal({ reason: err.message }, 'refused to start');
    } else {
      process.stderr.write(`unitd: cannot start: ${(err as Error)?.message ?? String(err)}\n`);
      log.fatal({ err }, 'cannot start');
    }
    log.flush(() => process.exit(1));
    return;
  }
  const varName = opts.scope === 'system' ? 'DBUS_SYSTEM_BUS_ADDRESS' : 'DBUS_SESSION_BUS_ADDRESS';
  process.stderr.write(`unitd is ready. Reach it with:\n  export ${varName}=${daemon.busAddress}\n`);
  if (stopRequested) stop(stopRequested);
}

void main();
