import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidUnitNameError, UnitStore } from '../../../src/units/unit-loader.js';
import type { LoadedUnit } from '../../../src/units/types.js';
import { buildEnablementIndex, unitFileState } from '../../../src/units/unit-file-state.js';

const ROOT = realpathSync(fileURLToPath(new URL('../../fixtures/store/', import.meta.url)));
const HIGH = `${ROOT}/high`;
const LOW = `${ROOT}/low`;
const TYPED = `${ROOT}/typed`;

const store = new UnitStore({ searchPath: [HIGH, LOW] });

function messages(u: LoadedUnit): string[] {
  return u.warnings.map((w) => `${w.file.replace(`${ROOT}/`, '')}:${w.line}: ${w.message}`);
}

describe('search path precedence', () => {
  it('takes the file from the first directory that has it', () => {
    const u = store.load('prec.service');
    expect(u.loadState).toBe('loaded');
    expect(u.fragmentPath).toBe(`${HIGH}/prec.service`);
    expect(u.kill?.killSignal).toBe(2);
    expect(u.service?.exec.ExecStart[0]?.argv).toEqual(['/bin/sleep', '1']);
  });
});

describe('drop-ins', () => {
  it('collects NAME.d/*.conf from every directory, sorted by file name, a higher directory hiding a same-named file', () => {
    const u = store.load('dd.service');
    expect(u.dropInPaths).toEqual([
      `${LOW}/dd.service.d/10-a.conf`,
      `${HIGH}/dd.service.d/20-b.conf`,
      `${HIGH}/dd.service.d/30-c.conf`,
    ]);
    expect(u.kill?.killSignal).toBe(10); // 20-b (SIGUSR1) overrides 10-a (SIGHUP)
    expect(u.kill?.killMode).toBe('process'); // low 30-c (mixed) is hidden
    expect(u.kill?.sendSIGHUP).toBe(false); // ... including its other settings
    expect(u.service?.timeoutStopUSec).toBe(5_000_000n);
  });

  it('applies template drop-ins before instance drop-ins (oracle: 10-x then 20-y, KillMode from 20-y)', () => {
    const u = store.load('demo@inst.service');
    expect(u.id).toBe('demo@inst.service');
    expect(u.names).toEqual(['demo@inst.service', 'othername@inst.service']);
    expect(u.fragmentPath).toBe(`${LOW}/demo@.service`);
    expect(u.dropInPaths).toEqual([`${LOW}/demo@.service.d/10-x.conf`, `${HIGH}/demo@inst.service.d/20-y.conf`]);
    expect(u.kill?.killMode).toBe('process');
    expect(u.kill?.killSignal).toBe(2);
    expect(u.unit.description).toBe('Demo inst (demo@inst.service, demo@inst, demo)');
    expect(u.service?.exec.ExecStart[0]?.argv).toEqual(['/bin/sleep', 'inst']);
  });

  it('uses an instance file when there is one, with the template drop-ins still applied', () => {
    const u = store.load('demo@special.service');
    expect(u.fragmentPath).toBe(`${LOW}/demo@special.service`);
    expect(u.dropInPaths).toEqual([`${LOW}/demo@.service.d/10-x.conf`]);
    expect(u.kill?.killMode).toBe('mixed');
  });

  it('applies dash-prefix drop-ins (a-.service.d, a-b-.service.d) and the type drop-in service.d', () => {
    const typed = new UnitStore({ searchPath: [TYPED] });
    const u = typed.load('a-b-c.service');
    expect(u.dropInPaths).toEqual([
      `${TYPED}/service.d/05-all.conf`,
      `${TYPED}/a-.service.d/10-prefix.conf`,
      `${TYPED}/a-b-.service.d/20-prefix.conf`,
    ]);
    expect(u.kill?.killMode).toBe('mixed');
    expect(u.kill?.killSignal).toBe(2);
    expect(u.service?.timeoutStopUSec).toBe(7_000_000n);
    expect(typed.load('other.service').dropInPaths).toEqual([`${TYPED}/service.d/05-all.conf`]);
  });
});

describe('masking', () => {
  it('masks through a symlink to /dev/null, hiding a lower-priority file', () => {
    const u = store.load('masked.service');
    expect(u.loadState).toBe('masked');
    expect(u.fragmentPath).toBe(`${HIGH}/masked.service`);
    expect(u.loadError).toEqual({ name: 'org.freedesktop.systemd1.UnitMasked', message: 'Unit masked.service is masked.' });
    expect(u.unitFileState).toBe('masked');
  });

  it('masks through an empty file', () => {
    const u = store.load('empty.service');
    expect(u.loadState).toBe('masked');
    expect(u.loadError?.name).toBe('org.freedesktop.systemd1.UnitMasked');
  });
});

describe('aliases', () => {
  it('loads the target of an alias symlink under the target name, with both names and both drop-in dirs', () => {
    const u = store.load('alias.service');
    expect(u.id).toBe('real.service');
    expect(u.names).toEqual(['real.service', 'alias.service']);
    expect(u.fragmentPath).toBe(`${LOW}/real.service`);
    expect(u.dropInPaths).toEqual([`${LOW}/alias.service.d/50-via-alias.conf`]);
    expect(u.kill?.killSignal).toBe(3);
    // the fragment is parsed under the name that was loaded (252 merges the alias afterwards)
    expect(u.service?.exec.ExecStart[0]?.argv).toEqual(['/bin/echo', 'alias.service']);
  });

  it('lists the aliases when loaded by the real name, and applies the alias drop-ins', () => {
    const u = store.load('real.service');
    expect(u.names).toEqual(['real.service', 'alias.service']);
    expect(u.kill?.killSignal).toBe(3);
    expect(u.service?.exec.ExecStart[0]?.argv).toEqual(['/bin/echo', 'real.service']);
  });

  it('aliases template instances: othername@x.service is demo@x.service', () => {
    const u = store.load('othername@x.service');
    expect(u.id).toBe('demo@x.service');
    expect(u.names).toEqual(['demo@x.service', 'othername@x.service']);
  });
});

describe('load states', () => {
  it('reports a missing unit as not-found', () => {
    const u = store.load('nosuch.service');
    expect(u.loadState).toBe('not-found');
    expect(u.id).toBe('nosuch.service');
    expect(u.fragmentPath).toBe('');
    expect(u.loadError).toEqual({ name: 'org.freedesktop.systemd1.NoSuchUnit', message: 'Unit nosuch.service not found.' });
    expect(u.service).not.toBeNull();
  });

  it('throws for invalid names and templates', () => {
    expect(() => store.load('no-suffix')).toThrow(InvalidUnitNameError);
    expect(() => store.load('demo@.service')).toThrow(InvalidUnitNameError);
  });

  it.each([
    ['two-starts.service', 'Service has more than one ExecStart= setting, which is only allowed for Type=oneshot services. Refusing.'],
    ['no-exec.service', 'Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.'],
    ['relative-exec.service', 'Neither a valid executable name nor an absolute path: bin/relative'],
    ['bad-user.service', 'Invalid user/group name or numeric ID: bad:user'],
  ])('%s is bad-setting', (name, reason) => {
    const u = store.load(name);
    expect(u.loadState).toBe('bad-setting');
    expect(u.loadError).toEqual({
      name: 'org.freedesktop.systemd1.BadUnitSetting',
      message: `Unit ${name} has a bad unit file setting.`,
    });
    expect(u.warnings.map((w) => w.message)).toContain(reason);
  });

  it('stops parsing at a fatal setting, as systemd does', () => {
    // KillSignal=SIGINT comes after the bad User= line
    expect(store.load('bad-user.service').kill?.killSignal).toBe(15);
  });

  it('accepts a oneshot with several ExecStart= and a stop-only service with RemainAfterExit=yes', () => {
    const oneshot = store.load('oneshot-two.service');
    expect(oneshot.loadState).toBe('loaded');
    expect(oneshot.service?.exec.ExecStart).toHaveLength(2);
    const stopOnly = store.load('stop-only.service');
    expect(stopOnly.loadState).toBe('loaded');
    expect(stopOnly.service?.type).toBe('oneshot');
    expect(stopOnly.service?.timeoutStartUSec).toBe(0xffff_ffff_ffff_ffffn);
  });

  it('reports a file systemd cannot parse as error', () => {
    const u = store.load('syntax-error.service');
    expect(u.loadState).toBe('error');
    expect(u.loadError?.message).toBe(
      'Unit syntax-error.service failed to load properly, please adjust/correct and reload service manager: Bad message',
    );
  });
});

describe('settings semantics', () => {
  it('defaults match systemd 252', () => {
    const u = store.load('plain.service');
    expect(u.kill).toEqual({
      killMode: 'control-group',
      killSignal: 15,
      restartKillSignal: 0,
      finalKillSignal: 9,
      sendSIGKILL: true,
      sendSIGHUP: false,
      watchdogSignal: 6,
    });
    expect(u.service?.type).toBe('simple');
    expect(u.service?.timeoutStartUSec).toBe(90_000_000n);
    expect(u.service?.timeoutStopUSec).toBe(90_000_000n);
    expect(u.service?.restartUSec).toBe(100_000n);
    expect(u.service?.ignoreSigpipe).toBe(true);
    expect(u.unitFileState).toBe('static');
  });

  it('LimitNOFILE=: no value means the manager default; bad values are ignored with systemd\'s warnings', () => {
    expect(store.load('plain.service').service?.limitNOFILE).toBeNull();
    const u = store.load('nofile.service');
    expect(u.service?.limitNOFILE).toEqual({ soft: 100n, hard: 2000n });
    expect(messages(u)).toEqual([
      'low/nofile.service:4: Failed to parse resource value, ignoring: lots',
      'low/nofile.service:5: Soft resource limit chosen higher than hard limit, ignoring: 2000:100',
    ]);
  });

  it('IgnoreSIGPIPE=no turns the default off; a bad value is ignored with a warning', () => {
    const u = store.load('sigpipe.service');
    expect(u.service?.ignoreSigpipe).toBe(false);
    expect(messages(u)).toEqual(['low/sigpipe.service:4: Failed to parse boolean value, ignoring: perhaps']);
  });

  it('last assignment wins; an empty Exec assignment resets the list (oracle)', () => {
    const u = store.load('repeat@abc.service');
    expect(u.kill?.killSignal).toBe(15);
    expect(u.service?.exec.ExecStartPre.map((c) => c.argv)).toEqual([['/bin/echo', 'abc']]);
  });

  it('an empty KillSignal= is a bad value (kept), an empty KillMode= restores the default', () => {
    const u = store.load('empty-values.service');
    expect(u.kill?.killSignal).toBe(2);
    expect(u.kill?.killMode).toBe('control-group');
    expect(messages(u)).toEqual(['low/empty-values.service:4: Failed to parse signal name, ignoring: ']);
  });

  it('ignores bad values with file:line warnings, keeping the previous value', () => {
    const u = store.load('bad-values.service');
    expect(u.loadState).toBe('loaded');
    expect(u.kill?.killSignal).toBe(12);
    expect(u.service?.timeoutStopUSec).toBe(5_000_000n);
    expect(u.kill?.sendSIGKILL).toBe(true);
    expect(u.kill?.killMode).toBe('control-group');
    expect(messages(u)).toEqual([
      "low/bad-values.service:3: Unknown key name 'Frobnicate' in section 'Unit', ignoring.",
      'low/bad-values.service:7: Failed to parse signal name, ignoring: SIGFOO',
      'low/bad-values.service:9: Failed to parse time value, ignoring: soon',
      'low/bad-values.service:10: Failed to parse boolean value, ignoring: maybe',
      'low/bad-values.service:11: Failed to parse kill mode specification, ignoring: gently',
      "low/bad-values.service:13: Unknown section 'Weird'. Ignoring.",
    ]);
  });

  it('TimeoutSec= sets both start and stop timeouts', () => {
    const u = store.load('timeout-sec.service');
    expect(u.service?.timeoutStartUSec).toBe(20_000_000n);
    expect(u.service?.timeoutStopUSec).toBe(20_000_000n);
  });
});

describe('enumeration and reload', () => {
  it('lists every unit file name, templates and aliases included', () => {
    const names = store.list();
    expect(names).toContain('demo@.service');
    expect(names).toContain('alias.service');
    expect(names).toContain('prec.service');
    expect(names.filter((n) => n === 'prec.service')).toHaveLength(1);
    expect(names).not.toContain('dd.service.d');
  });
});

describe('settings that systemctl show does not print', () => {
  const settings = new UnitStore({ searchPath: [`${ROOT}/settings`] });

  it('keeps conditions and asserts in order, an empty assignment resetting the conditions', () => {
    const u = settings.load('conditions.service');
    expect(u.unit.conditions).toEqual([
      { type: 'ConditionPathExists', trigger: true, negate: true, parameter: '/tmp' },
      { type: 'ConditionKernelCommandLine', trigger: false, negate: true, parameter: 'quiet' },
    ]);
    expect(u.unit.asserts).toEqual([{ type: 'AssertPathIsDirectory', trigger: false, negate: false, parameter: '/' }]);
    expect(messages(u)).toEqual([
      'settings/conditions.service:3: Invalid URL, ignoring: not-a-url',
      'settings/conditions.service:8: Path in condition not absolute, ignoring: relative',
    ]);
  });

  it('reports ignored values with file:line', () => {
    expect(messages(settings.load('env.service'))).toEqual([
      'settings/env.service:5: Invalid environment assignment, ignoring: bad-name=1',
      "settings/env.service:7: Path 'relative/file' is not absolute, ignoring.",
      "settings/env.service:8: Working directory path 'relative' is not absolute, ignoring",
    ]);
    expect(messages(settings.load('exec-ignored.service'))).toEqual([
      'settings/exec-ignored.service:2: Neither a valid executable name nor an absolute path, ignoring: foo/bar',
    ]);
    expect(messages(settings.load('socketish.socket'))).toEqual(["settings/socketish.socket:5: Unknown section 'Service'. Ignoring."]);
  });

  it('gives the reason service_verify() refused a service, attributed to the unit file', () => {
    expect(messages(settings.load('dbus-noname.service'))).toEqual([
      'settings/dbus-noname.service:0: Service is of type D-Bus but no D-Bus service name has been specified. Refusing.',
    ]);
  });

  it('system manager: no default working directory, PIDFile relative to /run', () => {
    const u = settings.load('env.service');
    expect(u.service?.workingDirectory).toBe('');
    expect(u.service?.pidFile).toBe('/run/foo.pid');
    expect(u.service?.environment).toEqual(['A=3', 'B=two words', 'C=env.service']);
  });
});

describe('UnitFileState', () => {
  const index = { persistent: new Set(['on.service']), runtime: new Set(['rt.service']) };
  const install = { alias: [], wantedBy: [], requiredBy: [], also: [], defaultInstance: '', present: false };
  const state = (id: string, extra: Partial<Parameters<typeof unitFileState>[0]> = {}): string =>
    unitFileState({ id, fragmentPath: `/lib/systemd/system/${id}`, masked: false, install, index, ...extra });

  it('follows install.c for the common cases', () => {
    expect(state('on.service')).toBe('enabled');
    expect(state('rt.service')).toBe('enabled-runtime');
    expect(state('x.service')).toBe('static');
    expect(state('x.service', { install: { ...install, wantedBy: ['multi-user.target'] } })).toBe('disabled');
    expect(state('x.service', { install: { ...install, also: ['y.service'] } })).toBe('indirect');
    expect(state('x.service', { masked: true, fragmentPath: '/etc/systemd/system/x.service' })).toBe('masked');
    expect(state('x.service', { masked: true, fragmentPath: '/run/systemd/system/x.service' })).toBe('masked-runtime');
    expect(state('x.service', { fragmentPath: '/run/systemd/generator/x.service' })).toBe('generated');
    expect(state('x.service', { fragmentPath: '/run/systemd/transient/x.service' })).toBe('transient');
    expect(state('x.service', { fragmentPath: '' })).toBe('');
  });

  it('counts only links in configuration directories', () => {
    const idx = buildEnablementIndex([`${ROOT}/low`]);
    expect(idx.persistent.size + idx.runtime.size).toBe(0);
  });
});

describe('dependencies', () => {
  it('adds Wants=/Requires= from NAME.wants/ and NAME.requires/ symlinks', () => {
    const u = store.load('deps.target');
    expect(u.unit.dependencies['Wants']).toEqual(['prec.service', 'plain.service']);
    expect(u.unit.dependencies['Requires']).toEqual(['real.service']);
    expect(messages(u)).toEqual([`low/deps.target.wants/file.service:0: Wants dependency dropin ${LOW}/deps.target.wants/file.service is not a symlink, ignoring.`]);
  });

  it('turns Sockets= into Wants=, After= and TriggeredBy=', () => {
    const u = store.load('sockets@x.service');
    for (const dep of ['Wants', 'After', 'TriggeredBy']) expect(u.unit.dependencies[dep]).toEqual(['a.socket', 'b-x.socket']);
    expect(messages(u)).toEqual(['low/sockets@.service:3: Unit must be of type socket, ignoring: not-a-socket.service']);
  });
});
