// Who may change units. systemd 252 lets a caller through when it holds the capability the
// method names (CAP_KILL for kill, CAP_SYS_ADMIN for jobs and the rest) or runs as the manager's
// own user; everyone else goes to polkit, and with no polkit on the bus the answer is
// org.freedesktop.DBus.Error.AccessDenied "Access denied" — what unitd answers (spec 7.6).
import { readFileSync, readlinkSync } from 'node:fs';
import { Errors } from './errors.js';
import type { CallContext } from './object-server.js';

export const CAP_KILL = 5;
export const CAP_SYS_ADMIN = 21;

/** The user namespace of a process (e.g. "user:[4026531837]"), null when it cannot be read. */
function userNamespace(pid: number | 'self'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/user`);
  } catch {
    return null;
  }
}

/**
 * The caller's effective capabilities, as far as they count here: a process in another user
 * namespace (`unshare -U`, a rootless container) shows a full CapEff in /proc, but those
 * capabilities hold only inside its own namespace, never over unitd's processes.
 */
function effectiveCapabilities(pid: number): bigint {
  const ours = userNamespace('self');
  if (ours === null || userNamespace(pid) !== ours) return 0n;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? BigInt('0x' + m[1]) : 0n;
  } catch {
    return 0n;
  }
}

async function isPrivileged(ctx: CallContext, capability: number): Promise<boolean> {
  const uid = await ctx.callerUid();
  const ours = process.geteuid?.() ?? 0;
  if (uid === ours && ours !== 0) return true;
  const caps = effectiveCapabilities(await ctx.callerPid());
  if ((caps >> BigInt(capability)) & 1n) return true;
  return uid === ours;
}

/** Refuses a caller without the privilege; the answer is kept for the life of its connection. */
export async function requirePrivilege(ctx: CallContext, capability: number): Promise<void> {
  if (!(await ctx.memo(`privileged:${capability}`, () => isPrivileged(ctx, capability)))) throw Errors.accessDenied('Access denied');
}
