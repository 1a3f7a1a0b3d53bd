// Issue 13, item 6: loading a unit file takes time in proportion to its size. At a186d99 a file of
// 100k lines took 36 s (Environment=), 167 s (After=) and 221 s (one line continued over 100k
// lines), and 100k `%n` in one value 30-55 s, the daemon answering nothing meanwhile: each
// assignment scanned the list it added to, the continued line was joined and measured again per
// line, and the specifier result was measured again per specifier. Each case here must load well
// inside BOUND_MS (a few hundred ms on this machine now); before the fix every one of them took far
// longer (and ran into vitest's own timeout).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnitStore, WARNINGS_MAX } from '../../../src/units/unit-loader.js';
import type { LoadedUnit } from '../../../src/units/types.js';

const N = 100_000;
/** generous: the machine is shared; the fixed code needs 0.1-0.5 s for each case */
const BOUND_MS = 5_000;

const dir = mkdtempSync(join(tmpdir(), 'unitd-parse-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (make: (i: number) => string): string => Array.from({ length: N }, (_, i) => make(i)).join('\n');

function timedLoad(name: string, text: string): { unit: LoadedUnit; ms: number } {
  writeFileSync(join(dir, name), text);
  const store = new UnitStore({ searchPath: [dir], specifiers: { hostname: 'host' } });
  const t0 = performance.now();
  const unit = store.load(name);
  return { unit, ms: performance.now() - t0 };
}

describe('a unit file of 100k lines loads in linear time', () => {
  it('Environment=: a variable set again keeps its place and takes the new value', () => {
    // 50k names, each set twice
    const { unit, ms } = timedLoad('env.service', `[Service]\nExecStart=/bin/true\n${lines((i) => `Environment=V${i % 50_000}=${i}`)}\n`);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(unit.loadState).toBe('loaded');
    const env = unit.service!.environment;
    expect(env.length).toBe(50_000);
    expect(env[0]).toBe('V0=50000');
    expect(env[49_999]).toBe('V49999=99999');
  });

  it('After=: every unit once, in the order first named', () => {
    const { unit, ms } = timedLoad('after.service', `[Unit]\n${lines((i) => `After=u${i % 60_000}.service`)}\n[Service]\nExecStart=/bin/true\n`);
    expect(ms).toBeLessThan(BOUND_MS);
    const after = unit.unit.dependencies.After!;
    expect(after.length).toBe(60_000);
    expect(after[0]).toBe('u0.service');
    expect(after[59_999]).toBe('u59999.service');
  });

  it('Documentation= and RequiresMountsFor=: each entry once', () => {
    const half = N / 2;
    // 50k of each, every Documentation= URL named twice
    const text = `[Unit]\n${lines((i) => (i < half ? `Documentation=man:x${i % 25_000}(1) man:y${i}(1)` : `RequiresMountsFor=/m/${i}`))}\n[Service]\nExecStart=/bin/true\n`;
    const { unit, ms } = timedLoad('docs.service', text);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(unit.unit.documentation.length).toBe(25_000 + half);
    expect(unit.unit.documentation.slice(0, 3)).toEqual(['man:x0(1)', 'man:y0(1)', 'man:x1(1)']);
    expect(unit.unit.requiresMountsFor.length).toBe(half);
  });

  it('one ExecStart= continued over 100k lines (within LONG_LINE_MAX)', () => {
    const text = `[Service]\nExecStart=/bin/echo \\\n${lines((i) => `a${i} \\`)}\nend\n`;
    const { unit, ms } = timedLoad('cont.service', text);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(unit.loadState).toBe('loaded');
    const argv = unit.service!.exec.ExecStart[0]!.argv;
    expect(argv.length).toBe(N + 2);
    expect(argv.at(-1)).toBe('end');
  });

  it('100k lines of unknown keys: the warnings are capped, their count is kept', () => {
    const { unit, ms } = timedLoad('unknown.service', `[Service]\nExecStart=/bin/true\n${lines((i) => `X${i}=1`)}\n`);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(unit.loadState).toBe('loaded');
    expect(unit.warnings.length).toBe(WARNINGS_MAX + 1);
    expect(unit.warnings[0]!.message).toBe("Unknown key name 'X0' in section 'Service', ignoring.");
    expect(unit.warnings.at(-1)!.message).toBe(`${N - WARNINGS_MAX} more warnings about this unit not shown (at most ${WARNINGS_MAX} are kept)`);
  });
});

describe('100k %n in one value expands in linear time', () => {
  it('Description=, Environment= and ExecStart= with 100k %n (900 kB, under unit_full_printf\'s LONG_LINE_MAX)', () => {
    const many = '%n'.repeat(N);
    const text = `[Unit]\nDescription=${many}\n[Service]\nEnvironment=A=${many}\nExecStart=/bin/echo ${many}\n`;
    const { unit, ms } = timedLoad('p.service', text);
    expect(ms).toBeLessThan(BOUND_MS);
    const expanded = 'p.service'.repeat(N);
    expect(unit.unit.description).toBe(expanded);
    expect(unit.service!.environment).toEqual([`A=${expanded}`]);
    expect(unit.service!.exec.ExecStart[0]!.argv).toEqual(['/bin/echo', expanded]);
  });

  it('in a unit name (After=) expansion stops past UNIT_NAME_MAX, as unit_name_printf() does', () => {
    const many = '%n'.repeat(N);
    const { unit, ms } = timedLoad('q.service', `[Unit]\nAfter=${many} a.service\n[Service]\nExecStart=/bin/true\n`);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(unit.unit.dependencies.After).toEqual(['a.service']);
    expect(unit.warnings.map((w) => w.message)).toEqual([`Failed to resolve unit specifiers in '${many}', ignoring: File name too long`]);
  });

  it('past LONG_LINE_MAX the setting is refused as in specifier_printf() (ENAMETOOLONG), just as fast', () => {
    // "longer-name.service" is 19 bytes: 100k of them are 1.9 MB
    const many = '%n'.repeat(N);
    const { unit, ms } = timedLoad('longer-name.service', `[Unit]\nDescription=${many}\n[Service]\nExecStart=/bin/true\n`);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(unit.unit.description).toBe('');
    expect(unit.warnings.map((w) => w.message)).toEqual([`Failed to resolve unit specifiers in '${many}', ignoring: File name too long`]);
  });
});
