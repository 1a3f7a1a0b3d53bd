// Runs the built unitd (dist/cli/main.js) as a real process and waits for its "ready" log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const UNITD_MAIN = `${REPO_ROOT}dist/cli/main.js`;

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface UnitdProcess {
  child: ChildProcess;
  pid: number;
  busAddress: string;
  logs: LogLine[];
  stderr: string[];
  /** resolves with the first log line matching, waiting up to timeoutMs */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** unitd inherits /dev/null on this descriptor, open and not close-on-exec, as from a careless parent */
  inheritedFd?: number;
  /**
   * unitd is run through this command, which sets something up (a mount namespace, a umask) and
   * ends with `exec "$@"`, so the PID is still unitd's. Not together with inheritedFd.
   */
  execThrough?: string[];
}

export async function startUnitd(args: string[], env: NodeJS.ProcessEnv = {}, opts: StartOptions = {}): Promise<UnitdProcess> {
  // bash (not Node's spawn, whose extra stdio arrives close-on-exec) opens the descriptor, then becomes node
  const [cmd, argv] =
    opts.execThrough !== undefined
      ? [opts.execThrough[0]!, [...opts.execThrough.slice(1), process.execPath, UNITD_MAIN, ...args]]
      : opts.inheritedFd === undefined
        ? [process.execPath, [UNITD_MAIN, ...args]]
        : ['/bin/bash', ['-c', `exec "$@" ${opts.inheritedFd}</dev/null`, 'unitd-wrapper', process.execPath, UNITD_MAIN, ...args]];
  const child = spawn(cmd, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      parsed = { level: 0, msg: line };
    }
    logs.push(parsed);
    for (const w of [...waiters]) {
      if (w.pred(parsed)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(parsed);
      }
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> => {
    const seen = logs.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`unitd log line not seen; logs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${stderr.join('\n')}`)), timeoutMs);
      const w = { pred, resolve: (l: LogLine) => { clearTimeout(timer); resolve(l); } };
      waiters.push(w);
      void exited.then((code) => {
        if (waiters.includes(w)) {
          clearTimeout(timer);
          reject(new Error(`unitd exited (${code}) before the log line; stderr:\n${stderr.join('\n')}\nlogs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`));
        }
      });
    });
  };
  const ready = await waitForLog((l) => l.msg === 'ready');
  return {
    child,
    pid: child.pid!,
    busAddress: String(ready.busAddress),
    logs,
    stderr,
    waitForLog,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
