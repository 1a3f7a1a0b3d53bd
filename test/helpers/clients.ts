// The real clients: busctl, gdbus, dbus-send, and systemctl 252 through the mount-namespace recipe
// of shared/spec/real-clients.md (a private tmpfs on /run/systemd holding /run/systemd/system, so
// sd_booted() is true for that one process and the host is untouched).
import { execFile } from 'node:child_process';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function busctl(address: string, args: string[]): Promise<Result> {
  return run('busctl', [`--address=${address}`, '--no-pager', ...args], { SYSTEMD_PAGER: 'cat', LC_ALL: 'C' });
}

export function gdbus(address: string, args: string[]): Promise<Result> {
  const [verb, ...rest] = args;
  return run('gdbus', [verb!, '--address', address, ...rest], { LC_ALL: 'C' });
}

const NS_SCRIPT = 'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && exec systemctl "$@"';

/** `systemctl ARGS` as if unitd were this machine's systemd, reaching it on the given bus. */
export function systemctl(address: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
  return run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', NS_SCRIPT, 'sh', '--no-pager', ...args], {
    DBUS_SYSTEM_BUS_ADDRESS: address,
    SYSTEMD_PAGER: 'cat',
    SYSTEMD_OFFLINE: '0',
    SYSTEMD_COLORS: '0',
    LC_ALL: 'C',
    COLUMNS: '200',
    TZ: 'UTC',
    ...extraEnv,
  });
}
