// A client's kill request (KillUnit, Unit.Kill, QueueSignalUnit): systemd's checks, in systemd's
// order, and the error each failure answers with (spec 7.1/7.2, v252 texts).
import { signalName } from '../units/values.js';
import { NSIG, SIGRTMAX, SIGRTMIN } from './signal-numbers.js';

export type Whom = 'main' | 'control' | 'all';

export interface KillRequest {
  whom: Whom;
  /** the -fail variants: an error when nothing could be signalled */
  failIfNothing: boolean;
  signal: number;
  /** QueueSignal: the sigqueue value */
  value: number | null;
}

export class KillRequestError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

const INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs';
export const NO_SUCH_PROCESS = 'org.freedesktop.systemd1.NoSuchProcess';

const WHOM: Record<string, [Whom, boolean]> = {
  '': ['all', false],
  main: ['main', false],
  control: ['control', false],
  all: ['all', false],
  'main-fail': ['main', true],
  'control-fail': ['control', true],
  'all-fail': ['all', true],
};

export function parseKillRequest(whom: string, signal: number, value: number | null): KillRequest {
  const parsed = WHOM[whom];
  if (!parsed) throw new KillRequestError(INVALID_ARGS, `Invalid who argument ${whom}`);
  if (!Number.isInteger(signal) || signal < 1 || signal >= NSIG) throw new KillRequestError(INVALID_ARGS, 'Signal number out of range.');
  if (value !== null && (signal < SIGRTMIN || signal > SIGRTMAX)) {
    throw new KillRequestError(
      INVALID_ARGS,
      `Value parameter only accepted for realtime signals (SIGRTMIN…SIGRTMAX), refusing for signal ${signalName(signal)}.`,
    );
  }
  return { whom: parsed[0], failIfNothing: parsed[1], signal, value };
}
