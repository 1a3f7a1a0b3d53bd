// The setting semantics (resets, in-place replacement, fatal vs ignored errors, implied values),
// checked on test/fixtures/store/settings against what real systemd 252 showed for those units
// (test/fixtures/store/settings-systemd-252-show.json, captured from a user manager).
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UnitStore } from '../../../src/units/unit-loader.js';
import { defaultSpecifierContext } from '../../../src/units/specifiers.js';
import { show } from './show-format.js';

const DIR = realpathSync(fileURLToPath(new URL('../../fixtures/store/settings/', import.meta.url)));
const TMP = '/oracle-tmp';

interface Capture {
  _header: { properties: string[] };
  units: Record<string, Record<string, string | string[]>>;
}

const capture = JSON.parse(readFileSync(`${DIR}/../settings-systemd-252-show.json`, 'utf8')) as Capture;

// a user manager like the oracle's: %h and %t in its temp dir
const base = defaultSpecifierContext('x.service', 'user');
const store = new UnitStore({
  scope: 'user',
  searchPath: [DIR],
  specifiers: { runtimeDir: `${TMP}/xdg`, user: { ...base.user, home: `${TMP}/home` } },
});

/** Accepted differences, with the reason; anything else fails. */
function explain(name: string, prop: string): string | null {
  if (!name.endsWith('.service') && prop === 'WorkingDirectory') {
    return 'the store models the exec context (WorkingDirectory=, ...) of services only';
  }
  return null;
}

/** `systemctl show` leaves out empty values */
function normalize(v: string | string[] | undefined): string | string[] {
  if (v === undefined) return '';
  if (Array.isArray(v)) return v.length === 0 ? '' : v;
  return v;
}

describe('settings vs systemd 252', () => {
  it.each(Object.keys(capture.units))('%s', (name) => {
    const want = capture.units[name]!;
    const ours = show(store.load(name));
    const mismatches: string[] = [];
    for (const prop of capture._header.properties) {
      const raw = want[prop];
      const expected = normalize(Array.isArray(raw) ? raw.map((v) => v.replaceAll('@TMP@', TMP)) : raw?.replaceAll('@TMP@', TMP));
      const got = normalize(ours[prop]);
      if (JSON.stringify(got) !== JSON.stringify(expected) && explain(name, prop) === null) {
        mismatches.push(`${prop}: systemd=${JSON.stringify(expected)} unitd=${JSON.stringify(got)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
