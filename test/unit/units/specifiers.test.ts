import { mkdtempSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defaultSpecifierContext,
  expandSpecifiers,
  SpecifierError,
  type SpecifierContext,
} from '../../../src/units/specifiers.js';

function ctx(unitId: string, extra: Partial<SpecifierContext> = {}): SpecifierContext {
  return {
    unitId,
    scope: 'user',
    user: { name: 'alice', uid: 1000, group: 'staff', gid: 50, home: '/home/alice', shell: '/bin/zsh' },
    runtimeDir: '/run/user/1000',
    stateDir: '/home/alice/.config',
    cacheDir: '/home/alice/.cache',
    logsDir: '/home/alice/.config/log',
    configDir: '/home/alice/.config',
    tmpDir: '/tmp',
    varTmpDir: '/var/tmp',
    hostname: 'box.example.org',
    machineId: '3d1219c7c4c5404aaa1f6d2a48adfda4',
    bootId: '7fa6f7d671ff41b6b221112042f48e71',
    kernelRelease: '6.1.0',
    architecture: 'x86-64',
    osRelease: { ID: 'debian', VERSION_ID: '12' },
    ...extra,
  };
}

describe('expandSpecifiers: unit name specifiers', () => {
  // oracle 252 for 'tp-x\x2dy-last@a-b\x2dc.service':
  // %i=a-b\x2dc %I=a/b-c %n=<id> %N=tp-x\x2dy-last@a-b\x2dc %p=tp-x\x2dy-last %P=tp/x-y/last %j=last %J=last %f=/a/b-c
  it('instance unit with escapes', () => {
    const c = ctx('tp-x\\x2dy-last@a-b\\x2dc.service');
    expect(expandSpecifiers('%i|%I|%n|%N|%p|%P|%j|%J|%f', c)).toBe(
      'a-b\\x2dc|a/b-c|tp-x\\x2dy-last@a-b\\x2dc.service|tp-x\\x2dy-last@a-b\\x2dc|tp-x\\x2dy-last|tp/x-y/last|last|last|/a/b-c',
    );
  });

  // oracle 252 for e11.service: %i and %I empty, %j=e11, %f=/e11
  it('plain unit: empty instance, %j is the whole prefix, %f is the prefix as a path', () => {
    const c = ctx('e11.service');
    expect(expandSpecifiers('[%i][%I][%j][%J][%f][%N][%p]', c)).toBe('[][][e11][e11][/e11][e11][e11]');
  });

  // oracle 252: two@b@c.service → %i=b@c %I=b@c %f=/b@c; two@-.service → %i=- %I=/ %f=/
  it('instance with "@" and the root instance', () => {
    expect(expandSpecifiers('%i|%I|%f|%p|%j', ctx('two@b@c.service'))).toBe('b@c|b@c|/b@c|two|two');
    expect(expandSpecifiers('%i|%I|%f', ctx('two@-.service'))).toBe('-|/|/');
  });

  // oracle 252: two@-foo-.service with %f → bad-setting (not a valid path)
  it('%f fails for an instance that is not a normalized path', () => {
    expect(() => expandSpecifiers('%f', ctx('two@-foo-.service'))).toThrow(SpecifierError);
  });
});

describe('expandSpecifiers: %% and unknown specifiers', () => {
  // oracle 252: "%%i" → "%i"; "%-", "%." and a trailing "%" are kept; %z makes the setting fail
  it('handles %% and non-alphanumeric followers literally', () => {
    const c = ctx('a.service');
    expect(expandSpecifiers('%%i %- %. 100% %', c)).toBe('%i %- %. 100% %');
    expect(expandSpecifiers('%%%%', c)).toBe('%%');
    expect(expandSpecifiers('no specifiers', c)).toBe('no specifiers');
  });

  it.each(['%z', 'x %k y', '%1', '%Z', '%e'])('%j is an unknown specifier (Invalid slot)', (s) => {
    expect(() => expandSpecifiers(s, ctx('a.service'))).toThrow('Invalid slot');
  });

  // oracle 252: After=%I.service was ignored (unit_name_printf has no %I) while Description=%I worked
  it("'name' mode knows only name, system and user specifiers", () => {
    const c = ctx('dep@x.service');
    expect(expandSpecifiers('%i-%p-%n-%N-%j-%u-%H', c, { mode: 'name' })).toBe(
      'x-dep-dep@x.service-dep@x-dep-alice-box.example.org',
    );
    for (const s of ['%I', '%f', '%t', '%h', '%s', '%P', '%T']) {
      expect(() => expandSpecifiers(s, c, { mode: 'name' })).toThrow(SpecifierError);
    }
    expect(expandSpecifiers('%I', c)).toBe('x');
  });

  it('enforces the maximum length', () => {
    const c = ctx('a.service');
    expect(() => expandSpecifiers('%n%n', c, { maxLength: 12 })).toThrow('File name too long');
    expect(expandSpecifiers('%n', c, { maxLength: 9 })).toBe('a.service');
  });
});

describe('expandSpecifiers: system, user and directory specifiers', () => {
  it('reads them from the context', () => {
    const c = ctx('a.service');
    expect(expandSpecifiers('%t %S %C %L %E %T %V %d', c)).toBe(
      '/run/user/1000 /home/alice/.config /home/alice/.cache /home/alice/.config/log /home/alice/.config /tmp /var/tmp /run/user/1000/credentials/a.service',
    );
    expect(expandSpecifiers('%u %U %g %G %h %s', c)).toBe('alice 1000 staff 50 /home/alice /bin/zsh');
    expect(expandSpecifiers('%H %l %q %m %b %v %a %o %w %W %B %A %M', c)).toBe(
      'box.example.org box box 3d1219c7c4c5404aaa1f6d2a48adfda4 7fa6f7d671ff41b6b221112042f48e71 6.1.0 x86-64 debian 12    ',
    );
  });

  it('%q prefers the pretty hostname', () => {
    expect(expandSpecifiers('%q', ctx('a.service', { prettyHostname: 'My Box' }))).toBe('My Box');
  });

  it('%y/%Y resolve the fragment path; without one they fail', () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'spec-')));
    const file = join(dir, 'a.service');
    writeFileSync(file, '');
    const c = ctx('a.service', { fragmentPath: file });
    expect(expandSpecifiers('%y|%Y', c)).toBe(`${file}|${dir}`);
    expect(() => expandSpecifiers('%y', ctx('a.service'))).toThrow(SpecifierError);
  });

  // oracle 252 (user manager): %u=root %U=0 %g=root %G=0 %h=$HOME %s=$SHELL %t=$XDG_RUNTIME_DIR,
  // %S=%E=~/.config %C=~/.cache %L=~/.config/log
  it('defaultSpecifierContext: system scope is root with /run and friends', () => {
    const c = defaultSpecifierContext('a.service', 'system', {}, {});
    expect(expandSpecifiers('%u %U %g %G %h %s %t %S %C %L %E %T %V', c)).toBe(
      'root 0 root 0 /root /bin/sh /run /var/lib /var/cache /var/log /etc /tmp /var/tmp',
    );
  });

  it('defaultSpecifierContext: user scope follows XDG variables, $HOME and $SHELL', () => {
    const env = { HOME: '/h', SHELL: '/bin/bash', XDG_RUNTIME_DIR: '/x', TMPDIR: '/scratch' };
    const c = defaultSpecifierContext('a.service', 'user', {}, env);
    expect(expandSpecifiers('%h %s %t %S %C %L %E %T %V', c)).toBe(
      '/h /bin/bash /x /h/.config /h/.cache /h/.config/log /h/.config /scratch /scratch',
    );
    const x = defaultSpecifierContext('a.service', 'user', {}, { ...env, XDG_CONFIG_HOME: '/cfg', XDG_CACHE_HOME: '/cache' });
    expect(expandSpecifiers('%S %C %L %E', x)).toBe('/cfg /cache /cfg/log /cfg');
  });
});
