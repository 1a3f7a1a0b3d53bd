import { describe, expect, it } from 'vitest';
import {
  escapeUnitNamePart,
  escapeUnitNamePath,
  instanceOf,
  isInstance,
  isTemplate,
  isValidUnitName,
  prefixAndInstanceOf,
  prefixOf,
  replaceInstance,
  templateOf,
  unescapeUnitNamePart,
  unescapeUnitNamePath,
  unitNameToPath,
  unitType,
  UNIT_TYPES,
} from '../../../src/units/unit-name.js';

describe('isValidUnitName', () => {
  it.each([
    'foo.service',
    'a.socket',
    'x.target',
    'dev-sda.device',
    'home.mount',
    'home.automount',
    'swapfile.swap',
    'x.timer',
    'x.path',
    'user.slice',
    'session-1.scope',
    'getty@tty1.service',
    'getty@.service',
    'a:b_c-d.e\\x2d.service',
    // oracle 252: "two@b@c.service" is a valid name (the instance is "b@c")
    'two@b@c.service',
    'two@@.service',
    '-.slice',
    '-.mount',
    `${'a'.repeat(247)}.service`, // 255 bytes
  ])('%s is valid', (n) => {
    expect(isValidUnitName(n)).toBe(true);
  });

  it.each([
    '',
    'foo',
    '.service',
    'foo.',
    'foo.services',
    'foo.Service',
    'foo.bar',
    'foo/bar.service',
    '../foo.service',
    'foo bar.service',
    'föö.service',
    '@foo.service',
    '@.service',
    'foo$.service',
    'foo%i.service',
    `${'a'.repeat(248)}.service`, // 256 bytes: over UNIT_NAME_MAX-1
  ])('%j is invalid', (n) => {
    expect(isValidUnitName(n)).toBe(false);
  });

  // oracle 252 (busctl LoadUnit): "..service", "...service", "a..b.service", "two@b@c.service",
  // "two@@.service" and a 255-byte name load; "@.service", "@foo.service", "foo/bar.service",
  // "foo bar.service", "foo.Service", "foo.", ".service", "föö.service" and a 256-byte name are
  // "not valid".
  it('dots are ordinary characters: only the last one starts the suffix', () => {
    expect(isValidUnitName('a..b.service')).toBe(true);
    expect(isValidUnitName('..service')).toBe(true); // prefix "."
    expect(isValidUnitName('...service')).toBe(true); // prefix ".."
    expect(prefixOf('...service')).toBe('..');
  });

  it('filters by kind', () => {
    expect(isValidUnitName('foo.service', { plain: true })).toBe(true);
    expect(isValidUnitName('foo.service', { instance: true, template: true })).toBe(false);
    expect(isValidUnitName('foo@x.service', { plain: true })).toBe(false);
    expect(isValidUnitName('foo@x.service', { instance: true })).toBe(true);
    expect(isValidUnitName('foo@.service', { template: true })).toBe(true);
    expect(isValidUnitName('foo@.service', { instance: true })).toBe(false);
    expect(isValidUnitName('foo.service', {})).toBe(false);
  });
});

describe('name parts', () => {
  it('unitType', () => {
    expect(unitType('a.service')).toBe('service');
    expect(unitType('a@b.socket')).toBe('socket');
    expect(unitType('a.b.timer')).toBe('timer');
    expect(unitType('a.bogus')).toBeNull();
    expect(UNIT_TYPES).toHaveLength(11);
  });

  it('templates and instances', () => {
    expect(isTemplate('getty@.service')).toBe(true);
    expect(isTemplate('getty@tty1.service')).toBe(false);
    expect(isInstance('getty@tty1.service')).toBe(true);
    expect(isInstance('getty.service')).toBe(false);
    expect(templateOf('getty@tty1.service')).toBe('getty@.service');
    expect(templateOf('getty@.service')).toBe('getty@.service');
    expect(templateOf('two@b@c.service')).toBe('two@.service');
    expect(templateOf('getty.service')).toBeNull();
    expect(instanceOf('getty@tty1.service')).toBe('tty1');
    expect(instanceOf('two@b@c.service')).toBe('b@c');
    expect(instanceOf('getty@.service')).toBe('');
    expect(instanceOf('getty.service')).toBeNull();
    expect(() => instanceOf('bad')).toThrow();
  });

  it('prefixes', () => {
    expect(prefixOf('foo-bar@baz.service')).toBe('foo-bar');
    expect(prefixOf('a.b.service')).toBe('a.b');
    expect(prefixAndInstanceOf('foo@baz.service')).toBe('foo@baz');
    expect(prefixAndInstanceOf('foo.service')).toBe('foo');
  });

  it('replaceInstance', () => {
    expect(replaceInstance('getty@.service', 'tty2')).toBe('getty@tty2.service');
    expect(replaceInstance('getty@tty1.service', 'tty2')).toBe('getty@tty2.service');
    expect(() => replaceInstance('getty.service', 'x')).toThrow();
    expect(() => replaceInstance('getty@.service', 'a/b')).toThrow();
  });
});

describe('escaping', () => {
  it('unescapeUnitNamePart: "-" is "/", \\xNN is a byte', () => {
    expect(unescapeUnitNamePart('a-b\\x2dc')).toBe('a/b-c');
    expect(unescapeUnitNamePart('\\xc3\\xa9')).toBe('é');
    expect(unescapeUnitNamePart('plain')).toBe('plain');
    expect(() => unescapeUnitNamePart('a\\y00')).toThrow();
    expect(() => unescapeUnitNamePart('a\\x4')).toThrow();
  });

  it('escapeUnitNamePart matches systemd-escape', () => {
    expect(escapeUnitNamePart('a/b-c')).toBe('a-b\\x2dc');
    expect(escapeUnitNamePart('.hidden/x')).toBe('\\x2ehidden-x');
    expect(escapeUnitNamePart('a b\\é')).toBe('a\\x20b\\x5c\\xc3\\xa9');
    expect(escapeUnitNamePart('a:b_c.d')).toBe('a:b_c.d');
  });

  it('round-trips', () => {
    for (const s of ['a/b-c', 'x y z', 'ü/ß', 'a.b']) {
      expect(unescapeUnitNamePart(escapeUnitNamePart(s))).toBe(s);
    }
  });

  it('path escaping (systemd-escape --path)', () => {
    expect(escapeUnitNamePath('/')).toBe('-');
    expect(escapeUnitNamePath('/dev/sda')).toBe('dev-sda');
    expect(escapeUnitNamePath('//home//user/')).toBe('home-user');
    expect(escapeUnitNamePath('/a/./b')).toBe('a-b');
    expect(() => escapeUnitNamePath('/a/../b')).toThrow();
  });

  it('path unescaping (%f)', () => {
    expect(unescapeUnitNamePath('-')).toBe('/');
    expect(unescapeUnitNamePath('dev-sda')).toBe('/dev/sda');
    expect(unescapeUnitNamePath('a-b\\x2dc')).toBe('/a/b-c');
    expect(() => unescapeUnitNamePath('')).toThrow();
    expect(() => unescapeUnitNamePath('-foo-')).toThrow(); // oracle 252: %f failed for two@-foo-.service
    expect(() => unescapeUnitNamePath('a--b')).toThrow();
    expect(() => unescapeUnitNamePath('a-..-b')).toThrow();
    expect(unitNameToPath('dev-sda1.device')).toBe('/dev/sda1');
    expect(unitNameToPath('-.mount')).toBe('/');
  });
});
