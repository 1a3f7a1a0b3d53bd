// What both trackers do the same way: process identity, race-free signals, and exit watching.
import { identify } from './proc-stat.js';
import { reaper } from './reaper.js';
import { queueSignalIdentity, signalIdentity } from './signal-identity.js';
import type { ExitInfo, ProcessIdentity } from './types.js';

export abstract class IdentityOperations {
  identify(pid: number): ProcessIdentity | null {
    return identify(pid);
  }

  signal(identity: ProcessIdentity, signal: number): boolean {
    return signalIdentity(identity, signal);
  }

  queueSignal(identity: ProcessIdentity, signal: number, value: number): boolean {
    return queueSignalIdentity(identity, signal, value);
  }

  watchExit(identity: ProcessIdentity): Promise<ExitInfo | null> {
    return reaper.watchExit(identity);
  }
}
