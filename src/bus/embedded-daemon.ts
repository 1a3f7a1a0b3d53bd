// unitd's own dbus-daemon, for machines without a system bus (containers, CI, a fresh VM):
// a config unitd writes itself, a socket under the runtime directory, stopped when unitd exits.
import type { ChildProcess } from 'node:child_process';
import { spawnRegistered as spawn } from '../processes/spawn-registry.js';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

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

export async function startEmbeddedDaemon(
  runtimeDir: string,
  type: 'system' | 'session',
  onStderr?: (line: string) => void,
): Promise<EmbeddedDaemon> {
  const dir = join(runtimeDir, 'bus');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const socket = join(dir, type === 'system' ? 'system_bus_socket' : 'session_bus_socket');
  const config = join(dir, `${type}.conf`);
  rmSync(socket, { force: true });
  writeFileSync(config, busConfig(type, socket));
  // its own process group, so a terminal's Ctrl-C reaches unitd only (unitd stops it after releasing
  // the name); the parent-death signal ends it should unitd itself be killed
  const args = [`--config-file=${config}`, '--nofork', '--nopidfile', '--print-address=1'];
  const child: ChildProcess = existsSync('/usr/bin/setpriv')
    ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'SIGTERM', '--', 'dbus-daemon', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn('dbus-daemon', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  createInterface({ input: child.stderr! }).on('line', (line) => onStderr?.(line));
  // the daemon prints its address (with a guid) once it listens: that line is the readiness signal
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
  child.removeAllListeners('exit');
  return {
    address: `unix:path=${socket}`,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => {
          rmSync(socket, { force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
