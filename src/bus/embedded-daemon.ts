// unitd's own dbus-daemon, for machines without a system bus (containers, CI, a fresh VM):
// a config unitd writes itself, a socket under the runtime directory (which one unitd holds at a
// time, runtime-lock.ts), stopped when unitd exits.
import type { ChildProcess } from 'node:child_process';
import { spawnRegistered as spawn } from '../processes/spawn-registry.js';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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

/** Anyone may connect and call; authorization is unitd's job, as it is systemd's behind polkit. */
function busConfig(type: 'system' | 'session', socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>${type}</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"/>
  </policy>
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
  // the system bus must be reachable by every user (unitd refuses them per call)
  const locked = await lockRuntimeDir(runtimeDir, 0o755);
  if (!('lock' in locked)) {
    throw new StartRefusal(
      `another unitd (PID ${locked.heldBy ?? 'unknown'}) holds the runtime directory ${runtimeDir}: stop it, or start this one with another --runtime-dir`,
    );
  }
  const lock = locked.lock;
  try {
    return await startLocked(runtimeDir, type, log, lock.release);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(runtimeDir: string, type: 'system' | 'session', log: Logger, releaseLock: () => void): Promise<EmbeddedDaemon> {
  const dir = join(runtimeDir, 'bus');
  const socket = join(dir, type === 'system' ? 'system_bus_socket' : 'session_bus_socket');
  const address = `unix:path=${socket}`;
  const config = join(dir, `${type}.conf`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });

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
  writeFileSync(config, busConfig(type, socket));

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
