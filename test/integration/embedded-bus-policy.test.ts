// The embedded bus's policy (issue 13, item 8), against the real dbus-daemon unitd starts and real
// clients run as uid 65534 (nobody):
//  - system bus, as Debian's system.conf: nobody owns a name that no policy file grants it
//    (org.freedesktop.PolicyKit1, org.freedesktop.login1, org.freedesktop.systemd1), a name a file
//    in the standard directories grants it is its to own, root (unitd) owns any; method calls are
//    denied unless a file opens them, but org.freedesktop.systemd1 takes every call and unitd
//    answers an unprivileged caller itself (systemd's AccessDenied "Permission denied"; reads served);
//  - the files: the socket reachable by everyone, its directory, config and the runtime
//    directory's lock writable by unitd's user only, even when unitd runs under umask 000;
//  - session bus (--user), as Debian's session.conf: only the user unitd runs as may connect.
//
// The policy file of the test is put in /etc/dbus-1/system.d only inside a mount namespace made for
// unitd (a bind mount over it), so the host's directory is never written.
import { chmodSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dbus from 'dbus-next';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { connectBus } from '../../src/bus/connect.js';
import { busctl, run, type Result } from '../helpers/clients.js';
import { REPO_ROOT, startUnitd, type UnitdProcess } from '../helpers/unitd-process.js';

const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const TEST_NAME = 'org.example.UnitdPolicyTest';
const MANAGER = ['--object-path', '/org/freedesktop/systemd1'];

const nobody = (cmd: string, args: string[]): Promise<Result> => run(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), cmd, ...args], { LC_ALL: 'C' });
/** gdbus as nobody: its errors carry the D-Bus error name and message as sent (busctl rewrites them) */
const nobodyCall = (address: string, dest: string, args: string[]): Promise<Result> =>
  nobody('gdbus', ['call', '--address', address, '--dest', dest, ...args]);
const requestNameAsNobody = (address: string, name: string): Promise<Result> =>
  nobodyCall(address, 'org.freedesktop.DBus', ['--object-path', '/org/freedesktop/DBus', '--method', 'org.freedesktop.DBus.RequestName', name, 'uint32 0']);

describe('embedded system bus', () => {
  let policyDir: string;
  let parent: string;
  let runtimeDir: string;
  let unitd: UnitdProcess;

  beforeAll(async () => {
    policyDir = mkdtempSync(join(tmpdir(), 'unitd-policy-'));
    chmodSync(policyDir, 0o755);
    writeFileSync(join(policyDir, `${TEST_NAME}.conf`), `<busconfig><policy user="nobody"><allow own="${TEST_NAME}"/></policy></busconfig>\n`);
    // unitd creates the runtime directory itself; nobody must be able to reach into its parent
    parent = mkdtempSync(join(tmpdir(), 'unitd-policy-rt-'));
    chmodSync(parent, 0o755);
    runtimeDir = join(parent, 'rt');
    unitd = await startUnitd(['--unit-path', `${REPO_ROOT}units`, '--runtime-dir', runtimeDir], { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${parent}/no-such-socket` }, {
      // umask 000: whatever unitd leaves writable by others, they could write
      execThrough: ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'umask 000 && mount --bind "$0" /etc/dbus-1/system.d && exec "$@"', policyDir],
    });
  });

  afterAll(async () => {
    await unitd?.stop();
    rmSync(parent, { recursive: true, force: true });
    rmSync(policyDir, { recursive: true, force: true });
  });

  it('lets nobody own only what a policy file grants it, and root (unitd) own org.freedesktop.systemd1', async () => {
    for (const name of ['org.freedesktop.PolicyKit1', 'org.freedesktop.login1', 'org.freedesktop.systemd1']) {
      const r = await requestNameAsNobody(unitd.busAddress, name);
      expect(r.code, name).not.toBe(0);
      expect(r.stderr).toContain(`org.freedesktop.DBus.Error.AccessDenied: Connection ":`);
      expect(r.stderr).toContain(`is not allowed to own the service "${name}" due to security policies`);
    }
    // granted by the file in /etc/dbus-1/system.d: RequestName answers 1, DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
    const granted = await requestNameAsNobody(unitd.busAddress, TEST_NAME);
    expect(granted.stderr).toBe('');
    expect(granted.stdout.trim()).toBe('(uint32 1,)');
    const owner = await busctl(unitd.busAddress, ['call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetConnectionUnixProcessID', 's', 'org.freedesktop.systemd1']);
    expect(owner.stdout.trim()).toBe(`u ${unitd.pid}`);
  });

  it('denies method calls no policy file opens, but passes every call to org.freedesktop.systemd1, where unitd answers', { timeout: 30_000 }, async () => {
    // a root service with no policy file: root may own its name, nobody may not call it
    const service = await connectBus(unitd.busAddress);
    onTestFinished(() => service.disconnect());
    expect(await service.requestName('org.example.RootService', dbus.NameFlag.DO_NOT_QUEUE)).toBe(dbus.RequestNameReply.PRIMARY_OWNER);
    const denied = await nobodyCall(unitd.busAddress, 'org.example.RootService', ['--object-path', '/', '--method', 'org.example.RootService.Hello']);
    expect(denied.stderr).toContain('org.freedesktop.DBus.Error.AccessDenied: Rejected send message');

    // org.freedesktop.systemd1: unitd answers an unprivileged caller as systemd 252 without polkit
    const start = await busctl(unitd.busAddress, ['call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'StartUnit', 'ss', 'crond-demo.service', 'replace']);
    expect(start.code, start.stderr).toBe(0);
    onTestFinished(async () => {
      await busctl(unitd.busAddress, ['call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'StopUnit', 'ss', 'crond-demo.service', 'replace']);
    });
    const unitPath = '/org/freedesktop/systemd1/unit/crond_2ddemo_2eservice';
    const activeState = async (): Promise<string> =>
      (await busctl(unitd.busAddress, ['get-property', 'org.freedesktop.systemd1', unitPath, 'org.freedesktop.systemd1.Unit', 'ActiveState'])).stdout.trim();
    const mainPid = async (): Promise<string> =>
      (await busctl(unitd.busAddress, ['get-property', 'org.freedesktop.systemd1', unitPath, 'org.freedesktop.systemd1.Service', 'MainPID'])).stdout.trim();
    const deadline = Date.now() + 10_000;
    while ((await activeState()) !== 's "active"') {
      if (Date.now() > deadline) throw new Error('crond-demo.service did not become active');
      await new Promise((res) => setTimeout(res, 50));
    }
    const pidBefore = await mainPid();

    for (const method of [
      ['org.freedesktop.systemd1.Manager.KillUnit', 'crond-demo.service', 'all', '15'],
      ['org.freedesktop.systemd1.Manager.QueueSignalUnit', 'crond-demo.service', 'main', '40', '1'],
      ['org.freedesktop.systemd1.Manager.StopUnit', 'crond-demo.service', 'replace'],
    ]) {
      const r = await nobodyCall(unitd.busAddress, 'org.freedesktop.systemd1', [...MANAGER, '--method', ...method]);
      // exactly unitd's message, not the bus's "Rejected send message, ..."
      expect(r.stderr.trim(), method[0]).toBe('Error: GDBus.Error:org.freedesktop.DBus.Error.AccessDenied: Permission denied');
    }
    const read = await nobodyCall(unitd.busAddress, 'org.freedesktop.systemd1', [...MANAGER, '--method', 'org.freedesktop.systemd1.Manager.GetUnit', 'crond-demo.service']);
    expect(read.stdout.trim()).toBe(`(objectpath '${unitPath}',)`);
    const version = await nobody('busctl', [`--address=${unitd.busAddress}`, 'get-property', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'Version']);
    expect(version.stdout).toContain('(unitd');
    expect(await activeState()).toBe('s "active"');
    expect(await mainPid()).toBe(pidBefore);
  });

  it('keeps its directory, config and lock writable by root only, under umask 000, and its socket open to all', async () => {
    const bus = join(runtimeDir, 'bus');
    const files = { [runtimeDir]: 0o755, [bus]: 0o755, [join(bus, 'system.conf')]: 0o644, [join(runtimeDir, 'unitd.lock')]: 0o644 };
    for (const [path, mode] of Object.entries(files)) {
      const st = lstatSync(path);
      expect(`${path} ${(st.mode & 0o7777).toString(8)} uid ${st.uid}`).toBe(`${path} ${mode.toString(8)} uid 0`);
    }
    const write = await nobody('sh', ['-c', `echo '<busconfig/>' >> ${bus}/system.conf || echo >> ${runtimeDir}/unitd.lock || touch ${bus}/planted || exit 0; exit 1`]);
    expect(write.code, write.stderr).toBe(0);
    expect(write.stderr.match(/Permission denied/g)).toHaveLength(3);
    // the socket: anyone may connect (and is then subject to the policy)
    const ping = await nobody('busctl', [`--address=${unitd.busAddress}`, 'call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetId']);
    expect(ping.code, ping.stderr).toBe(0);
  });
});

describe('embedded session bus (--user)', () => {
  it('lets only the user unitd runs as connect, and that user own any name', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'unitd-policy-user-'));
    onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
    chmodSync(parent, 0o755);
    const runtimeDir = join(parent, 'rt');
    const unitd = await startUnitd(['--user', '--unit-path', `${REPO_ROOT}units`, '--runtime-dir', runtimeDir], { DBUS_SESSION_BUS_ADDRESS: '' });
    onTestFinished(async () => {
      await unitd.stop();
    });
    expect(unitd.busAddress).toBe(`unix:path=${runtimeDir}/bus/session_bus_socket`);
    // opened up by hand, so that what stops nobody below is the bus's policy, not the file system
    chmodSync(join(runtimeDir, 'bus'), 0o755);
    chmodSync(runtimeDir, 0o755);
    const own = await busctl(unitd.busAddress, ['call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'RequestName', 'su', 'org.example.Anything', '0']);
    expect(own.stdout.trim()).toBe('u 1');
    const version = await busctl(unitd.busAddress, ['get-property', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'Version']);
    expect(version.stdout).toContain('(unitd');
    // the daemon closes the connection during authentication: nobody is not the bus's user
    const stranger = await nobodyCall(unitd.busAddress, 'org.freedesktop.DBus', ['--object-path', '/org/freedesktop/DBus', '--method', 'org.freedesktop.DBus.GetId']);
    expect(stranger.code).not.toBe(0);
    expect(stranger.stderr.trim()).toBe('Error connecting: The connection is closed');
    expect(await unitd.stop()).toBe(0);
  });
});
