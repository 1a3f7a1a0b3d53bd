import { describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from '../../../src/cli/options.js';

describe('command line', () => {
  it('defaults to the system scope with the default search path', () => {
    expect(parseOptions([])).toEqual({ scope: 'system', busAddress: null, unitPath: [], runtimeDir: null, logLevel: 'info', tracker: 'auto', systemManager: false, help: false });
  });
  it('takes every documented option, in both spellings', () => {
    const o = parseOptions(['--user', '--bus-address', 'unix:path=/x', '--unit-path=a', '--unit-path', 'b', '--runtime-dir', '/r', '--log-level=debug']);
    expect(o).toEqual({ scope: 'user', busAddress: 'unix:path=/x', unitPath: ['a', 'b'], runtimeDir: '/r', logLevel: 'debug', tracker: 'auto', systemManager: false, help: false });
  });
  it('refuses what it does not know', () => {
    expect(() => parseOptions(['--bogus'])).toThrow(UsageError);
    expect(() => parseOptions(['--log-level', 'loud'])).toThrow(UsageError);
    expect(() => parseOptions(['--unit-path'])).toThrow(UsageError);
  });
});
