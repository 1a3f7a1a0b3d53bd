// Differential test: every unit file under /lib/systemd/system, loaded by the store, against what
// real systemd 252 reported for it (test/fixtures/oracle/lib-systemd-system.json, captured by
// test/oracle/capture.oracle.ts with a user manager whose search path was only /lib/systemd/system).
import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UnitStore } from '../../../src/units/unit-loader.js';
import { USEC_INFINITY, type ExecCommand, type LoadedUnit } from '../../../src/units/types.js';

const ORACLE = new URL('../../fixtures/oracle/lib-systemd-system.json', import.meta.url);
const VENDOR_DIR = '/lib/systemd/system';

interface OracleUnit {
  queriedAs: string;
  template?: boolean;
  symlinkTo?: string;
  specifiers: string[];
  managerDependent: string[];
  properties: Record<string, string>;
}

interface OracleFile {
  _header: { properties: string[] };
  units: Record<string, OracleUnit>;
}

/**
 * Differences we know about and accept, with the reason; anything else fails. The capture ran a
 * user manager, but no captured unit uses a manager-dependent specifier (every "managerDependent"
 * list is empty) and the defaults are the same, so no difference comes from that.
 */
function explain(name: string, prop: string, ours: string | undefined): string | null {
  if (name.endsWith('.mount') && prop === 'Type' && ours === undefined) {
    // org.freedesktop.systemd1.Mount.Type is the file system type from [Mount] Type=; the store
    // accepts [Mount] without interpreting it (only its kill settings)
    return 'mount file system type is out of the store\'s scope';
  }
  return null;
}

/** format_timespan(t, 0) as `systemctl show` prints *USec properties. */
export function formatTimespan(usec: bigint): string {
  if (usec === USEC_INFINITY) return 'infinity';
  if (usec === 0n) return '0';
  const units: [string, bigint][] = [
    ['y', 31_557_600_000_000n],
    ['month', 2_629_800_000_000n],
    ['w', 604_800_000_000n],
    ['d', 86_400_000_000n],
    ['h', 3_600_000_000n],
    ['min', 60_000_000n],
    ['s', 1_000_000n],
    ['ms', 1_000n],
    ['us', 1n],
  ];
  const parts: string[] = [];
  let t = usec;
  for (const [suffix, size] of units) {
    if (t <= 0n) break;
    if (t < size) continue;
    const a = t / size;
    const b = t % size;
    if (t < 60_000_000n && b > 0n) {
      // below a minute a remainder is written as a fraction: 1.5s, 2.25ms
      const digits = String(size).length - 1;
      const frac = String(b).padStart(digits, '0').replace(/0+$/, '');
      parts.push(`${a}.${frac}${suffix}`);
      t = 0n;
      break;
    }
    parts.push(`${a}${suffix}`);
    t = b;
  }
  return parts.join(' ');
}

function formatExec(c: ExecCommand): string {
  return (
    `{ path=${c.path} ; argv[]=${c.argv.join(' ')} ; ignore_errors=${c.ignoreFailure ? 'yes' : 'no'} ; ` +
    'start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }'
  );
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/**
 * The properties as `systemctl show -p ...` prints them. systemctl prints one line per command of
 * an Exec*= property and the capture kept the last line of each, so only the last command is
 * comparable; empty Exec lists are not printed at all.
 */
function show(u: LoadedUnit): Record<string, string> {
  const p: Record<string, string> = { Id: u.id, LoadState: u.loadState };
  const svc = u.service;
  if (svc) {
    p['Type'] = u.loadState === 'loaded' || u.loadState === 'bad-setting' ? svc.type : '';
    p['TimeoutStartUSec'] = formatTimespan(svc.timeoutStartUSec);
    p['TimeoutStopUSec'] = formatTimespan(svc.timeoutStopUSec);
    p['RemainAfterExit'] = yesNo(svc.remainAfterExit);
    for (const kind of ['ExecStart', 'ExecStop', 'ExecStopPost'] as const) {
      const last = svc.exec[kind].at(-1);
      if (last) p[kind] = formatExec(last);
    }
  }
  if (u.kill) {
    p['KillMode'] = u.kill.killMode;
    p['KillSignal'] = String(u.kill.killSignal);
    p['RestartKillSignal'] = String(u.kill.restartKillSignal || u.kill.killSignal);
    p['FinalKillSignal'] = String(u.kill.finalKillSignal);
    p['SendSIGKILL'] = yesNo(u.kill.sendSIGKILL);
    p['SendSIGHUP'] = yesNo(u.kill.sendSIGHUP);
  }
  return p;
}

const oracle: OracleFile | null = existsSync(ORACLE) ? (JSON.parse(readFileSync(ORACLE, 'utf8')) as OracleFile) : null;

describe.skipIf(oracle === null || !existsSync(VENDOR_DIR))('every unit file under /lib/systemd/system vs systemd 252', () => {
  const store = new UnitStore({ searchPath: [VENDOR_DIR], scope: 'system' });
  const units = oracle!.units;

  it('covers exactly the unit files the oracle saw', () => {
    expect(store.list()).toEqual(Object.keys(units).sort());
  });

  it('loads every unit (templates through an instance) without throwing', () => {
    for (const name of store.list()) {
      const queried = units[name]?.queriedAs ?? name.replace('@.', '@hello.');
      expect(() => store.load(queried), queried).not.toThrow();
    }
  });

  it('formats time spans like systemctl', () => {
    expect(formatTimespan(90_000_000n)).toBe('1min 30s');
    expect(formatTimespan(900_000_000n)).toBe('15min');
    expect(formatTimespan(1_500_000n)).toBe('1.5s');
    expect(formatTimespan(100_000n)).toBe('100ms');
    expect(formatTimespan(USEC_INFINITY)).toBe('infinity');
  });

  const names = oracle ? Object.keys(oracle.units).sort() : [];
  it.each(names)('%s', (name) => {
    const entry = units[name]!;
    const ours = show(store.load(entry.queriedAs));
    const props = new Set([...Object.keys(entry.properties), ...Object.keys(ours)]);
    const mismatches: string[] = [];
    for (const prop of props) {
      if (!oracle!._header.properties.includes(prop)) continue;
      const want = entry.properties[prop];
      const got = ours[prop];
      if (want === got || explain(name, prop, got) !== null) continue;
      mismatches.push(`${prop}: systemd=${JSON.stringify(want)} unitd=${JSON.stringify(got)}`);
    }
    expect(mismatches, `${name} (queried as ${entry.queriedAs})`).toEqual([]);
  });
});
