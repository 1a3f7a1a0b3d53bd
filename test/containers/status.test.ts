// What systemctl status/show/list-units/is-active print inside a container, the same facts seen
// through busctl and gdbus, and bad input to the job methods (unknown units, invalid names, invalid
// job modes) with systemctl's exit codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEST, MANAGER_IFACE, MANAGER_PATH, UnitdContainer } from './harness.js';

const UNIT_PATH = '/org/freedesktop/systemd1/unit/status_2ddemo_2eservice';
let ct: UnitdContainer;
let mainPid = 0;

beforeAll(async () => {
  ct = await UnitdContainer.start({
    units: {
      'status-demo.service':
        '[Unit]\nDescription=Status demo\nDocumentation=man:unitd(8)\n[Service]\n' +
        "ExecStart=/bin/sh -c '/bin/sleep 100005 & exec /bin/sleep 100006'\nKillMode=mixed\nKillSignal=SIGINT\nSendSIGHUP=yes\nTimeoutStopSec=7\n",
      // a unit in /etc/unitd/units overrides the project's unit of the same name (first search path wins)
      'ufw-demo.service': '[Unit]\nDescription=Overridden oneshot\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n',
    },
  });
  const r = await ct.systemctl('start', 'status-demo');
  expect(r.code, r.stderr).toBe(0);
  mainPid = Number(await ct.show('status-demo.service', 'MainPID'));
}, 120_000);

afterAll(async () => {
  await ct?.stop();
});

describe('systemctl status', () => {
  it('an active unit: header, Loaded, Active, Docs, Main PID; exit 0', async () => {
    const r = await ct.systemctl('status', 'status-demo');
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.split('\n');
    expect(out[0]).toBe('* status-demo.service - Status demo');
    expect(out[1]).toBe('     Loaded: loaded (/etc/unitd/units/status-demo.service; static)');
    expect(out[2]).toMatch(/^ {5}Active: active \(running\) since \w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; [\dms ]+ago$/);
    expect(r.stdout).toContain('       Docs: man:unitd(8)\n');
    expect(r.stdout).toContain(`   Main PID: ${mainPid} (sleep)\n`);
  });

  it('status by PID finds the unit (GetUnitByPID)', async () => {
    const r = await ct.systemctl('status', String(mainPid));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('* status-demo.service - Status demo');
  });

  it('an inactive unit exits 3; the /etc copy overrides the project unit', async () => {
    const r = await ct.systemctl('status', 'ufw-demo');
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('* ufw-demo.service - Overridden oneshot\n');
    expect(r.stdout).toContain('     Loaded: loaded (/etc/unitd/units/ufw-demo.service; static)\n');
    expect(r.stdout).toContain('     Active: inactive (dead)\n');
  });

  it('an unknown unit exits 4: could not be found', async () => {
    const r = await ct.systemctl('status', 'nope.service');
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toBe('Unit nope.service could not be found.');
  });
});

describe('systemctl show / is-active / list-units', () => {
  it('show -p: the unit file settings and runtime state', async () => {
    const r = await ct.systemctl('show', '-p', 'Id,LoadState,ActiveState,SubState,MainPID,KillMode,KillSignal,SendSIGHUP,TimeoutStopUSec,FragmentPath', 'status-demo');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [
        'Id=status-demo.service',
        'LoadState=loaded',
        'ActiveState=active',
        'SubState=running',
        `MainPID=${mainPid}`,
        'KillMode=mixed',
        'KillSignal=2',
        'SendSIGHUP=yes',
        'TimeoutStopUSec=7s',
        'FragmentPath=/etc/unitd/units/status-demo.service',
      ].sort(),
    );
  });

  it('show of an unknown unit: not-found, inactive, exit 0', async () => {
    const r = await ct.systemctl('show', '-p', 'LoadState,ActiveState', 'nope.service');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('LoadState=not-found\nActiveState=inactive\n');
  });

  it('is-active per unit', async () => {
    const r = await ct.systemctl('is-active', 'status-demo', 'ufw-demo', 'nope');
    expect(r.stdout).toBe('active\ninactive\ninactive\n');
    expect(r.code).toBe(0);
    const i = await ct.systemctl('is-active', 'ufw-demo');
    expect(i.code).toBe(3);
  });

  it('list-units shows the running unit', async () => {
    const r = await ct.systemctl('list-units', '--type=service');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}status-demo\.service +loaded active running Status demo$/m);
    expect(r.stdout).not.toContain('ufw-demo');
  });
});

describe('busctl and gdbus see the same unit', () => {
  it('busctl get-property and gdbus Properties.Get', async () => {
    const b = await ct.busctl('get-property', DEST, UNIT_PATH, 'org.freedesktop.systemd1.Unit', 'ActiveState', 'SubState');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe('s "active"\ns "running"\n');
    const g = await ct.gdbus('call', '--dest', DEST, '--object-path', UNIT_PATH, '--method', 'org.freedesktop.DBus.Properties.Get', 'org.freedesktop.systemd1.Service', 'MainPID');
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout.trim()).toBe(`(<uint32 ${mainPid}>,)`);
  });

  it('busctl GetUnit and tree; gdbus introspect lists the Service interface', async () => {
    const u = await ct.callManager('GetUnit', 's', 'status-demo.service');
    expect(u.stdout.trim()).toBe(`o "${UNIT_PATH}"`);
    const t = await ct.busctl('tree', DEST);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain(UNIT_PATH);
    const i = await ct.gdbus('introspect', '--dest', DEST, '--object-path', UNIT_PATH);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toContain('interface org.freedesktop.systemd1.Service {');
    expect(i.stdout).toContain("readonly s KillMode = 'mixed';");
  });
});

describe('bad input to the job methods', () => {
  it('start/stop of an unknown unit: exit 5', async () => {
    const s = await ct.systemctl('start', 'nope');
    expect(s.code).toBe(5);
    expect(s.stderr).toContain('Failed to start nope.service: Unit nope.service not found.');
    const p = await ct.systemctl('stop', 'nope');
    expect(p.code).toBe(5);
    expect(p.stderr).toContain('Failed to stop nope.service: Unit nope.service not loaded.');
  });

  it('an invalid unit name: InvalidArgs', async () => {
    const r = await ct.callManager('StartUnit', 'ss', 'bad name', 'replace');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Unit name bad name is not valid.');
    const g = await ct.gdbus('call', '--dest', DEST, '--object-path', MANAGER_PATH, '--method', `${MANAGER_IFACE}.StopUnit`, 'foo@.service', 'replace');
    expect(g.stderr).toContain('org.freedesktop.DBus.Error.InvalidArgs');
  });

  it('an invalid job mode: InvalidArgs, the unit is untouched', async () => {
    const r = await ct.callManager('StopUnit', 'ss', 'status-demo.service', 'bogus');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Job mode bogus invalid');
    expect(await ct.show('status-demo.service', 'ActiveState')).toBe('active');
    expect(await ct.show('status-demo.service', 'MainPID')).toBe(String(mainPid));
  });

  it('an unknown method and an unknown object path', async () => {
    const m = await ct.callManager('NoSuchMethod', '');
    expect(m.code).not.toBe(0);
    expect(m.stderr).toMatch(/Unknown method|UnknownMethod/);
    const o = await ct.busctl('get-property', DEST, '/org/freedesktop/systemd1/nowhere', 'org.freedesktop.systemd1.Unit', 'Id');
    expect(o.code).not.toBe(0);
  });
});
