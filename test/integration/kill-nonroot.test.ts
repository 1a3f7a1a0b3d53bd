// Callers that are not root (the user `nobody`, via setpriv) get what systemd 252 answers an
// unprivileged caller when there is no polkit: org.freedesktop.DBus.Error.AccessDenied
// "Permission denied" (busctl and systemctl print "Access denied" for it) for kill, queued signals, start, stop, restart, reload, reset-failed; read-only
// calls stay open, and nothing changes. Also a `nobody` inside its own user namespace (where it is
// "root" with a full capability set that means nothing outside) is refused.
//
// Oracle: not run. A systemd 252 user manager's bus is a session bus that only its own user may
// connect to, so `nobody` cannot reach it at all; the 252 answer without polkit comes from the
// source (bus_verify_polkit_async → -EACCES → AccessDenied "Permission denied", seen from systemd
// 252 as PID 1 of a Debian container too); privilege.test.ts compares with a user manager whose
// bus is open to all users.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type Result } from '../helpers/clients.js';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';
import { startUnitd, type UnitdProcess } from '../helpers/unitd-process.js';
import { PYTHON, SIGREC, killRecorded, readRecords, signalSets, unitdTarget, waitForStarts, writeUnits, type Target } from '../helpers/signal-lab.js';

const DEST = 'org.freedesktop.systemd1';
const MANAGER = ['/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager'];
const UNIT_PATH = '/org/freedesktop/systemd1/unit/nr_2dsvc_2eservice';
const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];

const UNITS: Record<string, (dir: string) => string> = {
  'nr-svc.service': (dir) => `[Service]\nExecStart=${PYTHON} ${SIGREC} --log ${dir}/nr-svc.service.log --name main --children 1\nExecReload=/bin/true\n`,
  'nr-other.service': () => `[Service]\nExecStart=/bin/sleep 1000\n`,
};

let bus: PrivateBus;
let unitd: UnitdProcess;
let root: string;
let t: Target;

const nobodyBusctl = (args: string[]): Promise<Result> =>
  run(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), 'busctl', `--address=${bus.address}`, ...args], { LC_ALL: 'C' });
const nobodyGdbus = (args: string[]): Promise<Result> =>
  run(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), 'gdbus', 'call', '--address', bus.address, ...args], { LC_ALL: 'C' });
/** systemctl 252 as nobody: a user+mount namespace gives it /run/systemd/system (it is "root" in there) */
const nobodySystemctl = (args: string[]): Promise<Result> =>
  run(
    AS_NOBODY[0]!,
    [...AS_NOBODY.slice(1), 'unshare', '-Urm', 'sh', '-c', 'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && exec systemctl "$@"', 'sh', '--no-pager', ...args],
    { DBUS_SYSTEM_BUS_ADDRESS: bus.address, SYSTEMD_OFFLINE: '0', LC_ALL: 'C', SYSTEMD_PAGER: 'cat' },
  );

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'unitd-nonroot-'));
  chmodSync(root, 0o755);
  writeUnits(root, UNITS);
  bus = await startPrivateBus();
  chmodSync(bus.dir, 0o755); // let nobody reach the socket
  unitd = await startUnitd(['--bus-address', bus.address, '--unit-path', root, '--log-level', 'debug']);
  t = unitdTarget(unitd, bus.address, root);
});

afterAll(async () => {
  killRecorded(join(root, 'nr-svc.service.log'));
  await unitd?.stop();
  await bus?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('non-root callers', () => {
  it('are refused every change with AccessDenied "Access denied"; read-only calls work; nothing changes', { timeout: 60_000 }, async () => {
    const since = Date.now() / 1000;
    expect((await t.systemctl(['start', 'nr-svc.service'])).code).toBe(0);
    const pids = await waitForStarts(join(root, 'nr-svc.service.log'), ['main', 'main.child1'], since);
    const before = `${await t.prop('nr-svc.service', 'ActiveState')}/${await t.prop('nr-svc.service', 'MainPID')}`;
    const jobsBefore = unitd.logs.filter((l) => l.msg === 'job queued').length;

    const changes: [string, string[]][] = [
      ['KillUnit', ['call', DEST, ...MANAGER, 'KillUnit', 'ssi', 'nr-svc.service', 'all', '15']],
      ['KillUnit SIGKILL main', ['call', DEST, ...MANAGER, 'KillUnit', 'ssi', 'nr-svc.service', 'main', '9']],
      ['QueueSignalUnit', ['call', DEST, ...MANAGER, 'QueueSignalUnit', 'ssii', 'nr-svc.service', 'main', '40', '1']],
      ['Unit.Kill', ['call', DEST, UNIT_PATH, 'org.freedesktop.systemd1.Unit', 'Kill', 'si', 'all', '15']],
      ['StopUnit', ['call', DEST, ...MANAGER, 'StopUnit', 'ss', 'nr-svc.service', 'replace']],
      ['Unit.Stop', ['call', DEST, UNIT_PATH, 'org.freedesktop.systemd1.Unit', 'Stop', 's', 'replace']],
      ['RestartUnit', ['call', DEST, ...MANAGER, 'RestartUnit', 'ss', 'nr-svc.service', 'replace']],
      ['TryRestartUnit', ['call', DEST, ...MANAGER, 'TryRestartUnit', 'ss', 'nr-svc.service', 'replace']],
      ['ReloadUnit', ['call', DEST, ...MANAGER, 'ReloadUnit', 'ss', 'nr-svc.service', 'replace']],
      ['ReloadOrRestartUnit', ['call', DEST, ...MANAGER, 'ReloadOrRestartUnit', 'ss', 'nr-svc.service', 'replace']],
      ['StartUnit', ['call', DEST, ...MANAGER, 'StartUnit', 'ss', 'nr-other.service', 'replace']],
      ['ResetFailedUnit', ['call', DEST, ...MANAGER, 'ResetFailedUnit', 's', 'nr-svc.service']],
    ];
    for (const [name, args] of changes) {
      const r = await nobodyBusctl(args);
      expect({ name, code: r.code, stderr: r.stderr.trim() }).toEqual({ name, code: 1, stderr: 'Call failed: Access denied' });
    }
    // the error name, through gdbus
    const g = await nobodyGdbus(['--dest', DEST, '--object-path', MANAGER[0]!, '--method', `${MANAGER[1]}.KillUnit`, 'nr-svc.service', 'all', '15']);
    expect(g.code).not.toBe(0);
    expect(g.stderr).toContain('GDBus.Error:org.freedesktop.DBus.Error.AccessDenied: Permission denied');

    // validation comes before the privilege check, as in systemd (bus_unit_method_kill)
    const bad = await nobodyBusctl(['call', DEST, ...MANAGER, 'KillUnit', 'ssi', 'nr-svc.service', 'bogus', '15']);
    expect(bad.stderr.trim()).toBe('Call failed: Invalid who argument bogus');
    const unknown = await nobodyBusctl(['call', DEST, ...MANAGER, 'KillUnit', 'ssi', 'nosuch-nr.service', 'all', '15']);
    expect(unknown.stderr.trim()).toBe('Call failed: Unit nosuch-nr.service not loaded.');

    // systemctl 252 as nobody, from a user namespace where it holds every capability of that namespace
    const kill = await nobodySystemctl(['kill', 'nr-svc.service']);
    expect({ code: kill.code, stderr: kill.stderr.trim() }).toEqual({ code: 1, stderr: 'Failed to kill unit nr-svc.service: Access denied' });
    const stop = await nobodySystemctl(['stop', 'nr-svc.service']);
    expect({ code: stop.code, stderr: stop.stderr.trim() }).toEqual({ code: 4, stderr: `Failed to stop nr-svc.service: Access denied\nSee system logs and 'systemctl status nr-svc.service' for details.` });
    const restart = await nobodySystemctl(['restart', 'nr-svc.service']);
    expect({ code: restart.code, stderr: restart.stderr.trim() }).toEqual({ code: 4, stderr: `Failed to restart nr-svc.service: Access denied\nSee system logs and 'systemctl status nr-svc.service' for details.` });
    const reload = await nobodySystemctl(['reload', 'nr-svc.service']);
    expect({ code: reload.code, stderr: reload.stderr.trim() }).toEqual({ code: 4, stderr: `Failed to reload nr-svc.service: Access denied\nSee system logs and 'systemctl status nr-svc.service' for details.` });
    const start = await nobodySystemctl(['start', 'nr-other.service']);
    expect({ code: start.code, stderr: start.stderr.trim() }).toEqual({ code: 4, stderr: `Failed to start nr-other.service: Access denied\nSee system logs and 'systemctl status nr-other.service' for details.` });

    // read-only calls
    for (const args of [
      ['call', DEST, ...MANAGER, 'GetUnit', 's', 'nr-svc.service'],
      ['get-property', DEST, UNIT_PATH, 'org.freedesktop.systemd1.Unit', 'ActiveState'],
      ['call', DEST, UNIT_PATH, 'org.freedesktop.DBus.Properties', 'GetAll', 's', ''],
      ['call', DEST, ...MANAGER, 'ListUnits'],
    ]) {
      const r = await nobodyBusctl(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const show = await nobodySystemctl(['show', '-p', 'ActiveState', '--value', 'nr-svc.service']);
    expect(show.stdout.trim()).toBe('active');
    const status = await nobodySystemctl(['is-active', 'nr-svc.service']);
    expect(status.stdout.trim()).toBe('active');

    // nothing changed
    await new Promise((r) => setTimeout(r, 200));
    expect(signalSets(readRecords(join(root, 'nr-svc.service.log')))).toEqual({ main: [], 'main.child1': [] });
    expect(`${await t.prop('nr-svc.service', 'ActiveState')}/${await t.prop('nr-svc.service', 'MainPID')}`).toBe(before);
    expect(before).toBe(`active/${pids.main}`);
    expect(await t.prop('nr-other.service', 'ActiveState')).toBe('inactive');
    expect(unitd.logs.filter((l) => l.msg === 'job queued').length).toBe(jobsBefore);
    expect(unitd.logs.some((l) => l.msg === 'signal sent on client request' && l.unit === 'nr-svc.service')).toBe(false);

    // and root still can
    expect((await t.systemctl(['stop', 'nr-svc.service'])).code).toBe(0);
  });
});
