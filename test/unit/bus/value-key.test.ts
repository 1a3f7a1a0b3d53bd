// valueKey: the text PropertiesChanged compares to tell whether a property moved. Equal values
// give equal keys, different ones never do; a property has one D-Bus type, and scalars of
// different types are kept apart too.
import { describe, expect, it } from 'vitest';
import { valueKey } from '../../../src/bus/wire-values.js';

describe('valueKey', () => {
  it('keeps scalars of different types apart', () => {
    const values: unknown[] = ['1', 1, 1n, true, 'true', 't', '', 0, 0n, false, 'f', [1], ['1'], [1n], { a: 1n }, { a: 2n }];
    const keys = values.map(valueKey);
    expect(new Set(keys).size).toBe(values.length);
  });

  it('gives equal keys for equal values, nested ones included', () => {
    expect(valueKey('active')).toBe(valueKey('active'));
    expect(valueKey(1234567890123n)).toBe(valueKey(1234567890123n));
    expect(valueKey([['/bin/true', ['/bin/true'], false, 0n, 0n, 0n, 0n, 0, 0, 0]])).toBe(valueKey([['/bin/true', ['/bin/true'], false, 0n, 0n, 0n, 0n, 0, 0, 0]]));
    expect(valueKey([['/bin/true', ['/bin/true'], false, 0n]])).not.toBe(valueKey([['/bin/true', ['/bin/true'], false, 1n]]));
  });
});
