import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultUnitSearchPath, unitSearchPath } from '../../../src/units/search-path.js';
import { UnitStore } from '../../../src/units/unit-loader.js';

// `systemd-analyze unit-paths` of Debian's systemd 252
const DEBIAN_SYSTEM = [
  '/etc/systemd/system.control',
  '/run/systemd/system.control',
  '/run/systemd/transient',
  '/run/systemd/generator.early',
  '/etc/systemd/system',
  '/etc/systemd/system.attached',
  '/run/systemd/system',
  '/run/systemd/system.attached',
  '/run/systemd/generator',
  '/usr/local/lib/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/run/systemd/generator.late',
];

describe('unit search path', () => {
  it('system scope is the Debian 252 list', () => {
    expect(defaultUnitSearchPath('system', {})).toEqual(DEBIAN_SYSTEM);
    expect(unitSearchPath({ scope: 'system', env: {} })).toEqual(DEBIAN_SYSTEM);
  });

  it('user scope matches `systemd-analyze --user unit-paths` (HOME=/root, XDG_RUNTIME_DIR=/run/user/0)', () => {
    expect(unitSearchPath({ scope: 'user', env: { HOME: '/root', XDG_RUNTIME_DIR: '/run/user/0' } })).toEqual([
      '/root/.config/systemd/user.control',
      '/run/user/0/systemd/user.control',
      '/run/user/0/systemd/transient',
      '/run/user/0/systemd/generator.early',
      '/root/.config/systemd/user',
      '/etc/xdg/systemd/user',
      '/etc/systemd/user',
      '/run/user/0/systemd/user',
      '/run/systemd/user',
      '/run/user/0/systemd/generator',
      '/root/.local/share/systemd/user',
      '/usr/local/share/systemd/user',
      '/usr/share/systemd/user',
      '/usr/local/lib/systemd/user',
      '/usr/lib/systemd/user',
      '/run/user/0/systemd/generator.late',
    ]);
  });

  it('user scope honours XDG_CONFIG_HOME and leaves out runtime dirs without XDG_RUNTIME_DIR', () => {
    const p = unitSearchPath({ scope: 'user', env: { HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' } });
    expect(p[0]).toBe('/cfg/systemd/user.control');
    expect(p).toContain('/cfg/systemd/user');
    expect(p.some((d) => d.includes('/run/user/'))).toBe(false);
  });

  it('SYSTEMD_UNIT_PATH replaces the defaults; a trailing colon appends them', () => {
    expect(unitSearchPath({ scope: 'system', env: { SYSTEMD_UNIT_PATH: '/a:/b' } })).toEqual(['/a', '/b']);
    expect(unitSearchPath({ scope: 'system', env: { SYSTEMD_UNIT_PATH: '/a::/b:' } })).toEqual(['/a', '/b', ...DEBIAN_SYSTEM]);
    expect(unitSearchPath({ scope: 'system', env: { SYSTEMD_UNIT_PATH: '/lib/systemd/system:' } })).toEqual([
      '/lib/systemd/system',
      ...DEBIAN_SYSTEM.filter((d) => d !== '/lib/systemd/system'),
    ]);
  });

  it('explicit --unit-path dirs replace everything, relative ones made absolute', () => {
    expect(
      unitSearchPath({ scope: 'system', explicitDirs: ['units', '/x'], cwd: '/work', env: { SYSTEMD_UNIT_PATH: '/a:' } }),
    ).toEqual(['/work/units', '/x']);
  });
});

describe('reload', () => {
  it('sees new, changed and removed files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitd-store-'));
    try {
      const store = new UnitStore({ searchPath: [dir] });
      expect(store.load('r.service').loadState).toBe('not-found');
      writeFileSync(join(dir, 'r.service'), '[Service]\nExecStart=/bin/true\nKillSignal=SIGINT\n');
      store.reload();
      expect(store.load('r.service').kill?.killSignal).toBe(2);
      writeFileSync(join(dir, 'r.service'), '[Service]\nExecStart=/bin/true\nKillSignal=SIGHUP\n');
      expect(store.load('r.service').kill?.killSignal).toBe(1);
      rmSync(join(dir, 'r.service'));
      store.invalidate();
      expect(store.load('r.service').loadState).toBe('not-found');
      expect(store.list()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
