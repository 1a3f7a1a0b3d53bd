// unitd's own dbus-daemon, for machines without a system bus (containers, CI, a fresh VM):
// a config unitd writes itself, a socket under the runtime directory (which one unitd holds at a
// time, runtime-lock.ts), stopped when unitd exits.
import type { ChildProcess } from 'node:child_process';
import { spawnRegistered as spawn } from '../processes/spawn-registry.js';
import { chmodSync, existsSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../log.js';
import { StartRefusal } from '../start-refusal.js';
import { connectBus, ownerPid } from './connect.js';
import { lockRuntimeDir } from './runtime-lock.js';

export interface EmbeddedDaemon {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The system bus as Debian's /usr/share/dbus-1/system.conf defines it: anyone may connect; nobody
 * may own a name or send a method call unless a policy file punches the hole. The holes are the
 * ones the machine's services declare in the standard directories (included as system.conf
 * includes them), so a service unitd runs gets its name and its callers exactly as it would on the
 * system bus, and a name no file grants (org.freedesktop.PolicyKit1, org.freedesktop.login1) cannot
 * be taken by whoever connects first and impersonate that service.
 *
 * Two differences from system.conf, each for unitd's own sake:
 *  - the user the bus runs as (unitd's, root on a real system) may own any name: it already owns
 *    the bus process, so refusing it protects nothing, and unitd must get org.freedesktop.systemd1
 *    where systemd's policy file is not installed (containers, CI images);
 *  - every method call to org.freedesktop.systemd1 is let through, after the included files (the
 *    last rule wins), overriding systemd's own org.freedesktop.systemd1.conf when the host has it.
 *    unitd authorizes each call itself (bus/authorization.ts) and answers refusals with systemd's
 *    AccessDenied "Permission denied", the answer clients get from systemd 252 without polkit; with
 *    the bus filtering instead, what an unprivileged caller sees would depend on whether the host
 *    happens to have systemd's package, and methods missing from its 252-era list (QueueSignalUnit)
 *    would get the bus's "Rejected send message" instead of systemd's answer.
 * Host-wide settings of the system bus (system-local.conf, the legacy /etc/dbus-1/system.conf) are
 * not included: they configure the machine's bus daemon (its addresses, user, limits), not this one.
 */
function systemBusConfig(socket: string, ownerUid: number): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Containers1"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <policy user="${ownerUid}">
    <allow own="*"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
  <includedir>/etc/dbus-1/system.d</includedir>
  <policy context="default">
    <allow send_destination="org.freedesktop.systemd1"/>
  </policy>
</busconfig>
`;
}

/**
 * The session bus as Debian's /usr/share/dbus-1/session.conf defines it: no <allow user>, so only
 * the user the bus runs as (unitd's) may connect; that user may send anything and own any name.
 */
function sessionBusConfig(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <includedir>/usr/share/dbus-1/session.d</includedir>
  <includedir>/etc/dbus-1/session.d</includedir>
</busconfig>
`;
}

/** Whether a process accepts connections on the socket; 'stale' when its file is left with no one listening. */
function probeSocket(path: string): Promise<'answers' | 'stale' | 'absent' | Error> {
  if (!existsSync(path)) return Promise.resolve('absent');
  return new Promise((resolve) => {
    const conn = createConnection({ path });
    const timer = setTimeout(() => {
      conn.destroy();
      // a listener too busy to accept is still a listener
      resolve('answers');
    }, 2000);
    conn.once('connect', () => {
      clearTimeout(timer);
      conn.destroy();
      resolve('answers');
    });
    conn.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ECONNREFUSED' ? 'stale' : err.code === 'ENOENT' ? 'absent' : err);
    });
  });
}

/** The PID of the bus daemon that answers at `address`, when it says (best effort, for a message). */
async function busDaemonPid(address: string): Promise<number | null> {
  try {
    const bus = await connectBus(address, 2000);
    try {
      return await ownerPid(bus, 'org.freedesktop.DBus');
    } finally {
      bus.disconnect();
    }
  } catch {
    return null;
  }
}

export async function startEmbeddedDaemon(runtimeDir: string, type: 'system' | 'session', log: Logger): Promise<EmbeddedDaemon> {
  // the system bus must be reachable by every user (the policy and unitd refuse them per call);
  // a session bus by its owner only, as the policy says too
  const dirMode = type === 'system' ? 0o755 : 0o700;
  const locked = await lockRuntimeDir(runtimeDir, dirMode);
  if (!('lock' in locked)) {
    throw new StartRefusal(
      `another unitd (PID ${locked.heldBy ?? 'unknown'}) holds the runtime directory ${runtimeDir}: stop it, or start this one with another --runtime-dir`,
    );
  }
  const lock = locked.lock;
  try {
    return await startLocked(runtimeDir, type, dirMode, log, lock.release);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(runtimeDir: string, type: 'system' | 'session', dirMode: number, log: Logger, releaseLock: () => void): Promise<EmbeddedDaemon> {
  const dir = join(runtimeDir, 'bus');
  const socket = join(dir, type === 'system' ? 'system_bus_socket' : 'session_bus_socket');
  const address = `unix:path=${socket}`;
  const config = join(dir, `${type}.conf`);
  if (!existsSync(dir)) mkdirSync(dir, { mode: dirMode });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== (process.geteuid?.() ?? 0)) {
    throw new StartRefusal(`${dir} is not a directory of unitd's own (owner uid ${st.uid}): choose another --runtime-dir`);
  }
  // whatever the umask was, or an earlier unitd left: nobody else may add or replace files in it
  chmodSync(dir, dirMode);

  // A socket file that still answers belongs to a live bus, whoever runs it (a unitd from before
  // this lock existed, a dbus-daemon that outlived its unitd): removing it would cut that bus's
  // clients off for good. Only a socket nobody listens on is replaced.
  const state = await probeSocket(socket);
  if (state === 'answers') {
    const pid = await busDaemonPid(address);
    throw new StartRefusal(
      `a bus already answers at ${address}${pid === null ? '' : ` (PID ${pid})`}, though no unitd holds ${runtimeDir}: stop that bus, or start this one with another --runtime-dir`,
    );
  }
  if (state instanceof Error) {
    throw new StartRefusal(`cannot tell whether a bus answers at ${address} (${state.message}): choose another --runtime-dir`);
  }
  if (state === 'stale') {
    rmSync(socket, { force: true });
    log.info({ socket }, 'stale bus socket removed: nothing listened on it');
  }
  // created anew (O_EXCL, so not through a planted link) with its mode, whatever the umask: a user
  // who could write it could grant themselves any name at the bus's next reload (ReloadConfig is
  // open to everyone)
  rmSync(config, { force: true });
  writeFileSync(config, type === 'system' ? systemBusConfig(socket, process.geteuid?.() ?? 0) : sessionBusConfig(socket), { mode: 0o644, flag: 'wx' });

  // its own process group, so a terminal's Ctrl-C reaches unitd only (unitd stops it after releasing
  // the name); the parent-death signal ends it should unitd itself be killed
  const args = [`--config-file=${config}`, '--nofork', '--nopidfile', '--print-address=1'];
  const child: ChildProcess = existsSync('/usr/bin/setpriv')
    ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'SIGTERM', '--', 'dbus-daemon', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn('dbus-daemon', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  createInterface({ input: child.stderr! }).on('line', (line) => log.debug({ component: 'dbus-daemon' }, line));
  // the daemon prints its address (with a guid) once it listens: that line is the readiness signal
  try {
    await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => reject(new Error('dbus-daemon did not start within 10 s')), 10_000);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot run dbus-daemon: ${err.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`dbus-daemon exited with ${code}`));
      });
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(line.trim());
      });
    });
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    throw err;
  }
  child.removeAllListeners('exit');
  return {
    address,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      // the daemon is gone and the directory is still ours: so is the socket
      rmSync(socket, { force: true });
      releaseLock();
    },
  };
}
