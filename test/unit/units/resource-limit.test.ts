import { describe, expect, it } from 'vitest';
import { parseResourceLimit, RLIM_INFINITY } from '../../../src/units/resource-limit.js';

describe('LimitNOFILE= values (systemd rlimit_parse)', () => {
  it('one value sets both limits; SOFT:HARD each; infinity on either side', () => {
    expect(parseResourceLimit('4096')).toEqual({ soft: 4096n, hard: 4096n });
    expect(parseResourceLimit('100:2000')).toEqual({ soft: 100n, hard: 2000n });
    expect(parseResourceLimit('infinity')).toEqual({ soft: RLIM_INFINITY, hard: RLIM_INFINITY });
    expect(parseResourceLimit('1024:infinity')).toEqual({ soft: 1024n, hard: RLIM_INFINITY });
  });

  it('numbers as safe_atou64 reads them: blanks and + in front, 0x, 0 (octal), 0b, 0o', () => {
    expect(parseResourceLimit(' 12')).toEqual({ soft: 12n, hard: 12n });
    expect(parseResourceLimit('+12')).toEqual({ soft: 12n, hard: 12n });
    expect(parseResourceLimit('0x10')).toEqual({ soft: 16n, hard: 16n });
    expect(parseResourceLimit('010')).toEqual({ soft: 8n, hard: 8n });
    expect(parseResourceLimit('0b101')).toEqual({ soft: 5n, hard: 5n });
    expect(parseResourceLimit('0o17')).toEqual({ soft: 15n, hard: 15n });
    expect(parseResourceLimit('-0')).toEqual({ soft: 0n, hard: 0n });
  });

  it('refuses what systemd refuses; a soft limit above the hard one is its own case', () => {
    for (const bad of ['', '12 ', 'lots', '1:2:3', '1024:', ':1024', '-1', '08', '0x', '+0b1', ' infinity', '18446744073709551615']) {
      expect(parseResourceLimit(bad), bad).toBeUndefined();
    }
    expect(parseResourceLimit('2000:100')).toBe('soft-above-hard');
    expect(parseResourceLimit('infinity:100')).toBe('soft-above-hard');
  });
});
