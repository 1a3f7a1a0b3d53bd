import { describe, expect, it } from 'vitest';
import { escapeBusLabel, jobIdFromPath, unescapeBusLabel, unitLabelFromPath, unitPath } from '../../../src/bus/object-paths.js';

describe('bus label escaping (spec 2.2)', () => {
  it.each([
    ['foo.service', 'foo_2eservice'],
    ['systemd-journald.service', 'systemd_2djournald_2eservice'],
    ['getty@tty1.service', 'getty_40tty1_2eservice'],
    ['-.slice', '_2d_2eslice'],
    ['foo_bar.service', 'foo_5fbar_2eservice'],
    ['1x.service', '_31x_2eservice'],
    ['a1.service', 'a1_2eservice'],
    ['', '_'],
    ['ü.service', '_c3_bc_2eservice'],
  ])('%s <-> %s', (name, label) => {
    expect(escapeBusLabel(name)).toBe(label);
    expect(unescapeBusLabel(label)).toBe(name);
  });

  it('keeps a _ that is not followed by two hex digits', () => {
    expect(unescapeBusLabel('foo_zz')).toBe('foo_zz');
    expect(unescapeBusLabel('foo_2')).toBe('foo_2');
    expect(unescapeBusLabel('a_2Eb')).toBe('a.b');
  });

  it('maps paths both ways', () => {
    expect(unitPath('foo.service')).toBe('/org/freedesktop/systemd1/unit/foo_2eservice');
    expect(unitLabelFromPath('/org/freedesktop/systemd1/unit/foo_2eservice')).toBe('foo.service');
    expect(unitLabelFromPath('/org/freedesktop/systemd1/unit/a/b')).toBeNull();
    expect(unitLabelFromPath('/org/freedesktop/systemd1')).toBeNull();
    expect(jobIdFromPath('/org/freedesktop/systemd1/job/42')).toBe(42);
    expect(jobIdFromPath('/org/freedesktop/systemd1/job/0')).toBeNull();
    expect(jobIdFromPath('/org/freedesktop/systemd1/job/x1')).toBeNull();
  });
});
