// Golden test against systemd 252: test/fixtures/syntax/values-oracle.json holds what a real
// `systemd --user` (252.38) made of RestartSec=, KillSignal= and SuccessExitStatus= inputs (see its
// "source" field). A refused input left the earlier value (7s / SIGUSR2) in place.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseExitStatusSet, parseSignal, parseTimespan } from '../../../src/units/values.js';

interface Case {
  kind: 't' | 's' | 'e';
  input: string;
  value: number | [number[], number[]];
}

const file = fileURLToPath(new URL('../../fixtures/syntax/values-oracle.json', import.meta.url));
const cases = (JSON.parse(readFileSync(file, 'utf8')) as { cases: Case[] }).cases;

function ours(c: Case): number | [number[], number[]] {
  if (c.kind === 't') {
    try {
      return Number(parseTimespan(c.input));
    } catch {
      return 7_000_000;
    }
  }
  if (c.kind === 's') {
    try {
      return parseSignal(c.input);
    } catch {
      return 12;
    }
  }
  const { set } = parseExitStatusSet(c.input);
  return [set.statuses, set.signals];
}

describe('values match systemd 252', () => {
  it('has cases of every kind', () => {
    expect(new Set(cases.map((c) => c.kind))).toEqual(new Set(['t', 's', 'e']));
  });
  it.each(cases.map((c) => [c.kind, c.input, c] as const))('%s %j', (_k, _i, c) => {
    // infinity does not fit a double exactly; compare through bigint for that one
    if (c.kind === 't' && typeof c.value === 'number' && c.value > Number.MAX_SAFE_INTEGER) {
      expect(parseTimespan(c.input)).toBe(0xffff_ffff_ffff_ffffn);
      return;
    }
    expect(ours(c)).toEqual(c.value);
  });
});
