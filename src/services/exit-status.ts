// How systemd judges a process's end (is_clean_exit) and which Result= a failure gives.
import type { ExitInfo } from '../processes/types.js';
import type { ExitStatusSet } from '../units/types.js';
import { SIGHUP, SIGINT, SIGPIPE, SIGTERM } from '../signals/signal-numbers.js';

export type ServiceResult =
  | 'success'
  | 'resources'
  | 'protocol'
  | 'timeout'
  | 'exit-code'
  | 'signal'
  | 'core-dump'
  | 'watchdog'
  | 'start-limit-hit'
  | 'oom-kill'
  | 'exec-condition';

export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;

/**
 * A daemon's main process may die of SIGHUP, SIGINT, SIGTERM or SIGPIPE and still count as clean;
 * commands (control processes, oneshot main processes) may not.
 */
export function isCleanExit(info: ExitInfo, kind: 'daemon' | 'command', success?: ExitStatusSet): boolean {
  if (info.code === CLD_EXITED) return info.status === 0 || (success?.statuses.includes(info.status) ?? false);
  if (kind === 'daemon' && [SIGHUP, SIGINT, SIGTERM, SIGPIPE].includes(info.status)) return true;
  return success?.signals.includes(info.status) ?? false;
}

export function failureResult(info: ExitInfo): ServiceResult {
  return info.code === CLD_EXITED ? 'exit-code' : info.code === CLD_DUMPED ? 'core-dump' : 'signal';
}

export function exitCodeName(code: number): string {
  return code === CLD_EXITED ? 'exited' : code === CLD_KILLED ? 'killed' : code === CLD_DUMPED ? 'dumped' : 'unknown';
}
