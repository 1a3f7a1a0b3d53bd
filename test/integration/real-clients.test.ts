// unitd on a real dbus-daemon, driven by the real clients: busctl, gdbus and systemctl 252
// (mount-namespace recipe). Expectations for systemctl come from real systemd 252 (the oracle
// goldens in test/fixtures/oracle), not from memory.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busctl, gdbus, systemctl } from '../helpers/clients.js';
import { fillPlaceholders, golden, systemArgs, type GoldenRun } from '../helpers/oracle-goldens.js';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';
import { REPO_ROOT, startUnitd, type UnitdProcess } from '../helpers/unitd-process.js';

const DEST = 'org.freedesktop.systemd1';
const MANAGER = ['/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager'];
const UNITS_DIR = `${REPO_ROOT}units`;
const placeholders = { unitDir: UNITS_DIR, runtimeDir: '/run', home: '/root' };

let bus: PrivateBus;
let unitd: UnitdProcess;
let extraDir: string;

beforeAll(async () => {
  bus = await startPrivateBus();
  extraDir = mkdtempSync(join(tmpdir(), 'unitd-units-'));
  // an enabled unit stays loaded (systemd's default target would pull it in)
  writeFileSync(join(extraDir, 'enabled-demo.service'), '[Unit]\nDescription=Enabled demo\n[Service]\nExecStart=/bin/sleep 1000\n[Install]\nWantedBy=multi-user.target\n');
  mkdirSync(join(extraDir, 'multi-user.target.wants'));
  symlinkSync(join(extraDir, 'enabled-demo.service'), join(extraDir, 'multi-user.target.wants', 'enabled-demo.service'));
  writeFileSync(join(extraDir, 'bad-demo.service'), '[Service]\nType=simple\n');
  symlinkSync('/dev/null', join(extraDir, 'masked-demo.service'));
  symlinkSync(join(extraDir, 'enabled-demo.service'), join(extraDir, 'alias-demo.service'));
  unitd = await startUnitd(['--bus-address', bus.address, '--unit-path', UNITS_DIR, '--unit-path', extraDir, '--log-level', 'debug']);
});

afterAll(async () => {
  await unitd?.stop();
  await bus?.stop();
  rmSync(extraDir, { recursive: true, force: true });
});

async function alive(): Promise<void> {
  const r = await busctl(bus.address, ['call', DEST, '/org/freedesktop/systemd1', 'org.freedesktop.DBus.Peer', 'Ping']);
  expect(r.code, r.stderr).toBe(0);
  expect(unitd.child.exitCode).toBeNull();
}

describe('busctl', () => {
  it('tree walks the manager, unit and job nodes and every loaded unit', async () => {
    const r = await busctl(bus.address, ['tree', DEST]);
    expect(r.code, r.stderr).toBe(0);
    for (const p of ['/org/freedesktop/systemd1', '/org/freedesktop/systemd1/unit', '/org/freedesktop/systemd1/job', '/org/freedesktop/systemd1/unit/enabled_2ddemo_2eservice']) {
      expect(r.stdout).toContain(p);
    }
    // never-started static units are not kept loaded, as in systemd
    expect(r.stdout).not.toContain('crond_2ddemo_2eservice');
  });

  it('introspects the manager with systemd 252 signatures and flags', async () => {
    const r = await busctl(bus.address, ['introspect', DEST, '/org/freedesktop/systemd1']);
    expect(r.code, r.stderr).toBe(0);
    const row = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(name + ' '))?.replace(/\s+/g, ' ');
    expect(row('.KillUnit')).toBe('.KillUnit method ssi - -');
    expect(row('.QueueSignalUnit')).toBe('.QueueSignalUnit method ssii - -');
    expect(row('.StopUnit')).toBe('.StopUnit method ss o -');
    expect(row('.ListUnits')).toBe('.ListUnits method - a(ssssssouso) -');
    expect(row('.JobRemoved')).toBe('.JobRemoved signal uoss - -');
    expect(row('.Version')).toMatch(/^\.Version property s "252 \(unitd [0-9.]+\)" const$/);
    expect(row('.NFailedUnits')).toBe('.NFailedUnits property u 0 emits-change');
    expect(row('.NNames')).toMatch(/^\.NNames property u \d+ -$/);
  });

  it('introspects a unit: Service and Unit interfaces, every GetAll answers', async () => {
    const r = await busctl(bus.address, ['introspect', DEST, '/org/freedesktop/systemd1/unit/crond_2ddemo_2eservice']);
    expect(r.code, r.stderr).toBe(0);
    const row = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(name + ' '))?.replace(/\s+/g, ' ');
    expect(row('org.freedesktop.systemd1.Service')).toBe('org.freedesktop.systemd1.Service interface - - -');
    expect(row('org.freedesktop.systemd1.Unit')).toBe('org.freedesktop.systemd1.Unit interface - - -');
    expect(row('.KillMode')).toBe('.KillMode property s "control-group" const');
    expect(row('.SendSIGHUP')).toBe('.SendSIGHUP property b true const'); // from the drop-in
    expect(row('.MainPID')).toBe('.MainPID property u 0 emits-change');
    expect(row('.ExecStart')).toMatch(/^\.ExecStart property a\(sasbttttuii\) 1 "\/bin\/sh" 3 "\/bin\/sh" "-c" .* emits-invalidation$/);
    expect(row('.ActiveState')).toBe('.ActiveState property s "inactive" emits-change');
    expect(row('.Kill')).toBe('.Kill method si - -');
    expect(row('.Job')).toBe('.Job property (uo) - emits-change'); // busctl does not print struct values here
    expect(row('.InvocationID')).toBe('.InvocationID property ay 0 emits-change');
  });

  it('get-property answers with exact wire types', async () => {
    const path = '/org/freedesktop/systemd1/unit/stubborn_2ddemo_2eservice';
    const get = (iface: string, ...props: string[]) => busctl(bus.address, ['get-property', DEST, path, iface, ...props]);
    const r = await get('org.freedesktop.systemd1.Service', 'MainPID', 'KillSignal', 'TimeoutStopUSec', 'SendSIGKILL', 'RestartKillSignal', 'UID');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').slice(0, 6)).toEqual(['u 0', 'i 15', 't 2000000', 'b true', 'i 15', 'u 4294967295']);
    const u = await get('org.freedesktop.systemd1.Unit', 'LoadState', 'LoadError', 'Job', 'NeedDaemonReload');
    expect(u.stdout.split('\n').slice(0, 4)).toEqual(['s "loaded"', '(ss) "" ""', '(uo) 0 "/"', 'b false']);
  });

  it('answers for any valid unit path, loading it on demand: not-found like systemd', async () => {
    const r = await busctl(bus.address, ['get-property', DEST, '/org/freedesktop/systemd1/unit/nosuch_2eservice', 'org.freedesktop.systemd1.Unit', 'LoadState', 'ActiveState', 'SubState', 'LoadError']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').slice(0, 4)).toEqual(['s "not-found"', 's "inactive"', 's "dead"', '(ss) "org.freedesktop.systemd1.NoSuchUnit" "Unit nosuch.service not found."']);
  });

  it('reports masked and bad-setting units with their load errors', async () => {
    const masked = await busctl(bus.address, ['get-property', DEST, '/org/freedesktop/systemd1/unit/masked_2ddemo_2eservice', 'org.freedesktop.systemd1.Unit', 'LoadState', 'LoadError']);
    expect(masked.stdout.split('\n').slice(0, 2)).toEqual(['s "masked"', '(ss) "org.freedesktop.systemd1.UnitMasked" "Unit masked-demo.service is masked."']);
    const bad = await busctl(bus.address, ['get-property', DEST, '/org/freedesktop/systemd1/unit/bad_2ddemo_2eservice', 'org.freedesktop.systemd1.Unit', 'LoadState', 'LoadError']);
    expect(bad.stdout.split('\n').slice(0, 2)).toEqual(['s "bad-setting"', '(ss) "org.freedesktop.systemd1.BadUnitSetting" "Unit bad-demo.service has a bad unit file setting."']);
  });

  it('resolves an alias to its unit', async () => {
    const r = await busctl(bus.address, ['call', DEST, ...MANAGER, 'LoadUnit', 's', 'alias-demo.service']);
    expect(r.stdout.trim()).toBe('o "/org/freedesktop/systemd1/unit/enabled_2ddemo_2eservice"');
    const names = await busctl(bus.address, ['get-property', DEST, '/org/freedesktop/systemd1/unit/alias_2ddemo_2eservice', 'org.freedesktop.systemd1.Unit', 'Id', 'Names']);
    expect(names.stdout.split('\n').slice(0, 2)).toEqual(['s "enabled-demo.service"', 'as 2 "alias-demo.service" "enabled-demo.service"']);
  });

  it('lists units by names, patterns and states', async () => {
    const byNames = await busctl(bus.address, ['-j', 'call', DEST, ...MANAGER, 'ListUnitsByNames', 'as', '3', 'crond-demo.service', 'bad/name', 'nosuch.service']);
    const rows = (JSON.parse(byNames.stdout) as { data: unknown[][][] }).data[0]!;
    expect(rows.map((r) => [r[0], r[2], r[3], r[4], r[6], r[7], r[8], r[9]])).toEqual([
      ['crond-demo.service', 'loaded', 'inactive', 'dead', '/org/freedesktop/systemd1/unit/crond_2ddemo_2eservice', 0, '', '/'],
      ['nosuch.service', 'not-found', 'inactive', 'dead', '/org/freedesktop/systemd1/unit/nosuch_2eservice', 0, '', '/'],
    ]);
    const byPattern = await busctl(bus.address, ['-j', 'call', DEST, ...MANAGER, 'ListUnitsByPatterns', 'asas', '0', '1', 'enabled-*']);
    expect((JSON.parse(byPattern.stdout) as { data: unknown[][][] }).data[0]!.map((r) => r[0])).toEqual(['enabled-demo.service']);
    const filtered = await busctl(bus.address, ['-j', 'call', DEST, ...MANAGER, 'ListUnitsFiltered', 'as', '1', 'active']);
    // only the root slice is active: nothing was started
    expect((JSON.parse(filtered.stdout) as { data: unknown[][][] }).data[0]!.map((r) => [r[0], r[1], r[3], r[4]])).toEqual([['-.slice', 'Root Slice', 'active', 'active']]);
  });

  it('GetAll("") is every interface of the object; an unknown interface is refused', async () => {
    const all = await busctl(bus.address, ['-j', 'call', DEST, '/org/freedesktop/systemd1/unit/crond_2ddemo_2eservice', 'org.freedesktop.DBus.Properties', 'GetAll', 's', '']);
    const props = Object.keys((JSON.parse(all.stdout) as { data: Record<string, unknown>[] }).data[0]!);
    expect(props).toContain('KillMode');
    expect(props).toContain('ActiveState');
    expect(props.indexOf('Type')).toBeLessThan(props.indexOf('Id')); // Service before Unit, as systemd
    const bad = await busctl(bus.address, ['call', DEST, '/org/freedesktop/systemd1', 'org.freedesktop.DBus.Properties', 'GetAll', 's', 'org.example.Nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe("Call failed: Unknown interface 'org.example.Nope'.");
    const peer = await busctl(bus.address, ['call', DEST, '/org/freedesktop/systemd1', 'org.freedesktop.DBus.Properties', 'GetAll', 's', 'org.freedesktop.DBus.Peer']);
    expect(peer.stdout.trim()).toBe('a{sv} 0');
  });

  it('refuses Set as systemd does, and changes nothing', async () => {
    const r = await busctl(bus.address, ['set-property', DEST, '/org/freedesktop/systemd1/unit/crond_2ddemo_2eservice', 'org.freedesktop.systemd1.Service', 'KillMode', 's', 'none']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("Failed to set property KillMode on interface org.freedesktop.systemd1.Service: Property 'KillMode' is not writable.");
    const after = await busctl(bus.address, ['get-property', DEST, '/org/freedesktop/systemd1/unit/crond_2ddemo_2eservice', 'org.freedesktop.systemd1.Service', 'KillMode']);
    expect(after.stdout.trim()).toBe('s "control-group"');
  });
});

describe('gdbus', () => {
  it('introspect --recurse walks everything and reads every property', async () => {
    const r = await gdbus(bus.address, ['introspect', '--dest', DEST, '--object-path', '/', '--recurse']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('interface org.freedesktop.systemd1.Manager');
    expect(r.stdout).toContain('node /org/freedesktop/systemd1/unit/enabled_2ddemo_2eservice');
    expect(r.stdout).toMatch(/readonly s KillMode = 'control-group';/);
    expect(r.stdout).toMatch(/readonly u MainPID = 0;/);
  });

  it('calls a method through introspection', async () => {
    const r = await gdbus(bus.address, ['call', '--dest', DEST, '--object-path', '/org/freedesktop/systemd1', '--method', 'org.freedesktop.systemd1.Manager.GetUnit', 'enabled-demo.service']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("(objectpath '/org/freedesktop/systemd1/unit/enabled_2ddemo_2eservice',)");
  });
});

describe('systemctl 252 against unitd, compared with real systemd 252', () => {
  const shows = golden<{ units: Record<string, GoldenRun> }>('units-show.json').units;
  const statuses = golden<{ units: Record<string, GoldenRun>; missing: GoldenRun }>('units-status.json');

  it.each(Object.keys(shows))('show -p ... %s', async (name) => {
    const want = shows[name]!;
    const r = await systemctl(bus.address, systemArgs(want));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(fillPlaceholders(want.stdout, placeholders));
    expect(r.code).toBe(want.code);
  });

  it.each(Object.keys(statuses.units))('status %s (inactive: exit 3, unknown: exit 4)', async (name) => {
    const want = statuses.units[name]!;
    const r = await systemctl(bus.address, systemArgs(want));
    expect(r.stdout).toBe(fillPlaceholders(want.stdout, placeholders));
    expect(r.stderr).toBe(want.stderr);
    expect(r.code).toBe(want.code);
    expect(r.code).toBe(name === 'nosuch.service' ? 4 : 3);
  });

  it('status of an unknown unit: exit 4, "could not be found"', async () => {
    const r = await systemctl(bus.address, ['status', 'nosuch.service']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim()).toBe('Unit nosuch.service could not be found.');
    expect(r.stdout).toBe('');
  });

  it('list-units --all of never-started units: as systemd, nothing is loaded', async () => {
    const want = golden<{ idle: GoldenRun }>('units-list.json').idle;
    const r = await systemctl(bus.address, systemArgs(want));
    expect(r.stdout).toBe(want.stdout);
    expect(r.code).toBe(0);
  });

  it('list-units --all shows an enabled unit as loaded and inactive', async () => {
    const r = await systemctl(bus.address, ['list-units', '--all', '--plain', '--no-legend', 'enabled-demo.service']);
    expect(r.stdout.trim().replace(/\s+/g, ' ')).toBe('enabled-demo.service loaded inactive dead Enabled demo');
  });

  it('is-active / is-enabled style reads use Get on the Unit interface', async () => {
    const r = await systemctl(bus.address, ['is-active', 'crond-demo.service']);
    expect(r.stdout.trim()).toBe('inactive');
    expect(r.code).toBe(3);
  });

  it('show of the manager reads its properties', async () => {
    const r = await systemctl(bus.address, ['show', '-p', 'Version,SystemState,Architecture,DefaultTimeoutStopUSec']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Version=252 \(unitd [0-9.]+\)$/m);
    expect(r.stdout).toMatch(/^SystemState=running$/m);
    expect(r.stdout).toMatch(/^DefaultTimeoutStopUSec=1min 30s$/m);
  });
});

describe('bad input gets systemd\'s error and changes nothing', () => {
  const call = (member: string, sig: string, ...args: string[]) => busctl(bus.address, ['call', DEST, ...MANAGER, member, sig, ...args]);

  it.each([
    ['foo/bar.service', 'Unit name foo/bar.service is not valid.'],
    ['../x.service', 'Unit name ../x.service is not valid.'],
    ['nosuffix', 'Unit name nosuffix is not valid.'],
    ['@foo.service', 'Unit name @foo.service is not valid.'],
    ['foo.bogus', 'Unit name foo.bogus is not valid.'],
    ['tmpl@.service', 'Unit name tmpl@.service is missing the instance name.'],
    ['x'.repeat(300) + '.service', `Unit name ${'x'.repeat(300)}.service is not valid.`],
  ])('LoadUnit, StartUnit, StopUnit(%s)', async (name, message) => {
    // one answer for every method that loads by name (manager_load_unit_prepare)
    for (const r of [await call('LoadUnit', 's', name), await call('StartUnit', 'ss', name, 'replace'), await call('StopUnit', 'ss', name, 'replace')]) {
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`Call failed: ${message}`);
    }
    await alive();
  });

  it('GetUnit of a unit that is not loaded: NoSuchUnit', async () => {
    const r = await busctl(bus.address, ['-j', 'call', DEST, ...MANAGER, 'GetUnit', 's', 'nosuch.service']);
    expect(r.stderr.trim()).toBe('Call failed: Unit nosuch.service not loaded.');
    const monitorless = await call('GetUnit', 's', 'foo/../bar');
    expect(monitorless.stderr.trim()).toBe('Call failed: Unit foo/../bar not loaded.');
  });

  it('wrong argument types: InvalidArgs naming the expected signature', async () => {
    const r = await call('LoadUnit', 'u', '7');
    expect(r.stderr.trim()).toBe("Call failed: Invalid arguments 'u' to call org.freedesktop.systemd1.Manager.LoadUnit(), expecting 's'.");
    const extra = await call('GetUnit', 'ss', 'a.service', 'b');
    expect(extra.stderr.trim()).toBe("Call failed: Invalid arguments 'ss' to call org.freedesktop.systemd1.Manager.GetUnit(), expecting 's'.");
    await alive();
  });

  it('malformed unit paths', async () => {
    const get = (label: string) => busctl(bus.address, ['get-property', DEST, `/org/freedesktop/systemd1/unit/${label}`, 'org.freedesktop.systemd1.Unit', 'Id']);
    expect((await get('foo_2fbar_2eservice')).stderr.trim()).toBe('Failed to get property Id on interface org.freedesktop.systemd1.Unit: Unit name foo/bar.service is neither a valid invocation ID nor unit name.');
    expect((await get('tmpl_40_2eservice')).stderr.trim()).toContain('Unit name tmpl@.service is neither a valid invocation ID nor unit name.');
    expect((await get('0123456789abcdef0123456789abcdef')).stderr.trim()).toContain('No unit with the specified invocation ID 0123456789abcdef0123456789abcdef known.');
    const deep = await busctl(bus.address, ['get-property', DEST, '/org/freedesktop/systemd1/unit/a/b', 'org.freedesktop.systemd1.Unit', 'Id']);
    expect(deep.stderr.trim()).toContain("Unknown object '/org/freedesktop/systemd1/unit/a/b'.");
    const self = await busctl(bus.address, ['get-property', DEST, '/org/freedesktop/systemd1/unit/self', 'org.freedesktop.systemd1.Unit', 'Id']);
    expect(self.stderr.trim()).toContain("Unknown object '/org/freedesktop/systemd1/unit/self'.");
    await alive();
  });

  it('unknown methods, properties and PIDs', async () => {
    expect((await call('Bogus', '')).stderr.trim()).toBe('Call failed: Unknown method Bogus or interface org.freedesktop.systemd1.Manager.');
    const prop = await busctl(bus.address, ['get-property', DEST, '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'Nope']);
    expect(prop.stderr.trim()).toContain('Unknown interface org.freedesktop.systemd1.Manager or property Nope.');
    expect((await call('GetUnitByPID', 'u', '1')).stderr.trim()).toBe('Call failed: PID 1 does not belong to any loaded unit.');
    expect((await call('GetUnitByInvocationID', 'ay', '3', '1', '2', '3')).stderr.trim()).toBe('Call failed: Invalid invocation ID');
    expect((await call('GetUnitByControlGroup', 's', '/nope')).stderr.trim()).toBe("Call failed: Control group '/nope' is not valid or not managed by this instance");
    await alive();
  });

  it('subscriptions: twice is an error, so is unsubscribing without one', async () => {
    // busctl makes a new connection per call, so each call is a new client
    expect((await call('Subscribe', '')).code).toBe(0);
    expect((await call('Unsubscribe', '')).stderr.trim()).toBe('Call failed: Client is not subscribed.');
  });
});
