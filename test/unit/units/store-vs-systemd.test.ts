// The fixture units of test/fixtures/store, loaded by the store, against what real systemd 252
// showed for them (test/fixtures/store/systemd-252-show.json).
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UnitStore } from '../../../src/units/unit-loader.js';
import { show } from './show-format.js';

const ROOT = realpathSync(fileURLToPath(new URL('../../fixtures/store/', import.meta.url)));

interface Capture {
  _header: { searchPaths: Record<string, string[]> };
  units: Record<string, { searchPath: string; unit: string; properties: Record<string, string | string[]> }>;
}

const capture = JSON.parse(readFileSync(`${ROOT}/systemd-252-show.json`, 'utf8')) as Capture;
const stores = new Map(
  Object.entries(capture._header.searchPaths).map(([label, dirs]) => [
    label,
    new UnitStore({ searchPath: dirs.map((d) => `${ROOT}/${d}`) }),
  ]),
);

/** systemd's Names= is a hash-set order; compare as sets */
const sortedWords = (s: string): string => s.split(' ').sort().join(' ');

describe('fixture units vs systemd 252', () => {
  it.each(Object.keys(capture.units))('%s', (key) => {
    const entry = capture.units[key]!;
    const ours = show(stores.get(entry.searchPath)!.load(entry.unit));
    const mismatches: string[] = [];
    for (const [prop, raw] of Object.entries(entry.properties)) {
      const want = Array.isArray(raw) ? raw.map((v) => v.replaceAll('@ROOT@', ROOT)) : raw.replaceAll('@ROOT@', ROOT);
      let got = ours[prop];
      let expected = want;
      if (prop === 'Names' && typeof got === 'string' && typeof expected === 'string') {
        got = sortedWords(got);
        expected = sortedWords(expected);
      }
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        mismatches.push(`${prop}: systemd=${JSON.stringify(expected)} unitd=${JSON.stringify(got)}`);
      }
    }
    // Exec lists systemd did not print must be empty here too
    for (const prop of Object.keys(ours)) {
      if (prop.startsWith('Exec') && ['ExecStart', 'ExecStartPre', 'ExecStop'].includes(prop) && !(prop in entry.properties)) {
        mismatches.push(`${prop}: systemd=(none) unitd=${JSON.stringify(ours[prop])}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
