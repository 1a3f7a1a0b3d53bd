// Who may change units: the caller the bus daemon vouches for. systemd 252 asks
// sd_bus_query_sender_privilege() (src/libsystemd/sd-bus/bus-convenience.c) before it asks polkit.
// On a dbus-daemon bus the message carries no credentials, so sd-bus asks the bus for the sender's
// UnixUserID (bus_get_name_creds_dbus1) and never reads capabilities: those could only come from
// /proc/PID, which it refuses to trust ("augmented" credentials are raceful). With the
// capabilities unknown, the caller passes only when its uid is the manager's own (getuid()). Then
// polkit is asked, and with no polkit on the bus the answer is -EACCES (bus-polkit.c), which
// sd-bus sends as org.freedesktop.DBus.Error.AccessDenied "Permission denied" (what systemd 252
// as PID 1 of a Debian container answers `nobody`), what unitd answers.
//
// Why not /proc/PID/status: the PID is read after the call arrived, and by then the sender may
// have exec'd a setuid program that inherited the bus socket (its CapEff full, its euid 0), or
// ended and left its PID to another process. The uid the bus recorded when the connection
// authenticated (SO_PEERCRED at connect) cannot change for the life of the connection.
import { Errors } from './errors.js';
import type { CallContext } from './object-server.js';

// systemd names a capability per method (CAP_KILL for kill, CAP_SYS_ADMIN for the rest); on a
// dbus-daemon bus it is never known, so one rule serves every method and none is named here.

/** sd_bus_query_sender_privilege() on a dbus-daemon bus: the caller's uid, as the bus has it, is ours. */
function isPrivileged(ctx: CallContext): Promise<boolean> {
  return ctx.memo('privileged', async () => (await ctx.callerUid()) === process.getuid!());
}

/**
 * A method systemd guards with polkit (the ones its vtable marks SD_BUS_VTABLE_UNPRIVILEGED and
 * checks itself): refused with AccessDenied "Permission denied" unless the caller is privileged.
 */
export async function requirePrivilege(ctx: CallContext): Promise<void> {
  if (!(await isPrivileged(ctx))) throw Errors.accessDenied();
}

/**
 * A member sd-bus guards itself (not marked SD_BUS_VTABLE_UNPRIVILEGED: setting a writable
 * property, Exit, Reboot...): bus-objects.c check_access() refuses with its own message.
 */
export async function requireMemberAccess(ctx: CallContext, iface: string, member: string): Promise<void> {
  if (!(await isPrivileged(ctx))) throw Errors.accessDenied(`Access to ${iface}.${member}() not permitted.`);
}
