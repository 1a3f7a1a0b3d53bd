// Every unit file under /lib/systemd/system loaded by a user-scope store, against a wider capture
// of real systemd 252 running as a user manager (test/fixtures/store/lib-systemd-system-user-show.json):
// some 60 properties of [Unit], [Service] and the kill settings, as `systemctl show` prints them.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UnitStore } from '../../../src/units/unit-loader.js';
import { defaultSpecifierContext } from '../../../src/units/specifiers.js';
import { show } from './show-format.js';

const FIXTURES = realpathSync(fileURLToPath(new URL('../../fixtures/store/', import.meta.url)));
const VENDOR_DIR = '/lib/systemd/system';
const TMP = '/oracle-tmp';

type Value = string | string[];
interface Capture {
  _header: { properties: string[]; defaults: Record<string, Value> };
  units: Record<string, Record<string, Value>>;
}

const capture = JSON.parse(readFileSync(`${FIXTURES}/lib-systemd-system-user-show.json`, 'utf8')) as Capture;

/** `systemctl show` leaves out empty values */
function normalize(v: Value | undefined): Value {
  if (v === undefined || (Array.isArray(v) && v.length === 0)) return '';
  return v;
}

const sortedWords = (v: Value): string => (Array.isArray(v) ? v.join(' ') : v).split(' ').sort().join(' ');

/**
 * Accepted differences, with the reason; anything else fails. Mount units' Type= is the file
 * system type ([Mount] Type=), and WorkingDirectory= of non-service units belongs to their exec
 * context: the store interprets neither.
 */
function explain(name: string, prop: string): string | null {
  if (name.endsWith('.mount') && prop === 'Type') return 'file system type of a mount';
  if (!name.endsWith('.service') && prop === 'WorkingDirectory') return 'exec context of a non-service unit';
  return null;
}

describe.skipIf(!existsSync(VENDOR_DIR))('/lib/systemd/system in a user manager vs systemd 252', () => {
  const base = defaultSpecifierContext('x.service', 'user');
  const store = new UnitStore({
    scope: 'user',
    searchPath: [VENDOR_DIR],
    specifiers: { runtimeDir: `${TMP}/xdg`, user: { ...base.user, home: `${TMP}/home` } },
  });

  it.each(Object.keys(capture.units))('%s', (name) => {
    const own = capture.units[name]!;
    const ours = show(store.load(name));
    const mismatches: string[] = [];
    for (const prop of capture._header.properties) {
      const raw = own[prop] ?? capture._header.defaults[prop];
      const want = normalize(Array.isArray(raw) ? raw.map((v) => v.replaceAll('@TMP@', TMP)) : raw?.replaceAll('@TMP@', TMP));
      const got = normalize(ours[prop]);
      // systemd's Names= comes out of a hash set: compare as sets
      if (prop === 'Names' && sortedWords(got) === sortedWords(want)) continue;
      if (JSON.stringify(got) === JSON.stringify(want) || explain(name, prop) !== null) continue;
      mismatches.push(`${prop}: systemd=${JSON.stringify(want)} unitd=${JSON.stringify(got)}`);
    }
    expect(mismatches).toEqual([]);
  });
});
