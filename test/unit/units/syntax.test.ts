import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  LONG_LINE_MAX,
  parseUnitBytes,
  parseUnitText,
  splitPhysicalLines,
  SYNTAX_ERRNO,
  UnitFileSyntaxError,
} from '../../../src/units/syntax.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../fixtures/syntax/${name}`, import.meta.url));

const pick = (text: string) =>
  parseUnitText(text, 'x.service').assignments.map((a) => [a.section, a.key, a.value, a.line]);

describe('parseUnitText: the basic fixture', () => {
  const path = fixture('basic.service');
  const parsed = parseUnitText(readFileSync(path, 'utf8'), path);

  it('keeps every assignment in file order with its section and start line', () => {
    expect(parsed.assignments.map((a) => [a.section, a.key, a.value, a.line])).toEqual([
      ['Unit', 'Description', 'Demo ; not a comment # nor this', 4],
      ['Unit', 'After', 'a.service', 5],
      ['Unit', 'After', 'b.service', 6],
      ['Unit', 'After', '', 7],
      // oracle 252: the continued ExecStart ran as "/bin/echo a b c"; comment lines inside are skipped
      ['Service', 'ExecStart', '/bin/echo a    b   c', 9],
      ['Service', 'Environment', '"A=1" "B=2 3"', 14],
      ['X-Custom', 'Anything', 'goes', 17],
      ['Service', 'KillSignal', 'SIGINT', 19],
    ]);
    expect(parsed.assignments.every((a) => a.file === path)).toBe(true);
    expect(parsed.warnings).toEqual([]);
  });
});

describe('parseUnitText: comments', () => {
  it('treats only a line whose first non-blank char is # or ; as a comment', () => {
    expect(pick('[A]\n#K=1\n  ;K=2\nK=v # x ; y\nL=;z\n')).toEqual([
      ['A', 'K', 'v # x ; y', 4],
      ['A', 'L', ';z', 5],
    ]);
  });

  it('a comment line does not end a continuation, an empty line does', () => {
    expect(pick('[A]\nK=a \\\n#c\n;d\nb\nL=x \\\n\nM=y\n')).toEqual([
      ['A', 'K', 'a  b', 2],
      ['A', 'L', 'x', 6],
      ['A', 'M', 'y', 8],
    ]);
  });

  it('a comment ending in a backslash does not continue', () => {
    expect(pick('[A]\n# comment \\\nK=1\n')).toEqual([['A', 'K', '1', 3]]);
  });
});

describe('parseUnitText: continuation', () => {
  it('an even number of trailing backslashes is not a continuation', () => {
    expect(pick('[A]\nK=a\\\\\nL=b\n')).toEqual([
      ['A', 'K', 'a\\\\', 2],
      ['A', 'L', 'b', 3],
    ]);
  });

  it('a continuation at the end of the file is still an assignment', () => {
    expect(pick('[A]\nK=a \\')).toEqual([['A', 'K', 'a', 2]]);
  });

  it('the backslash becomes a space and the next line keeps its leading blanks', () => {
    expect(pick('[A]\nK=a\\\n   b\n')).toEqual([['A', 'K', 'a    b', 2]]);
  });
});

describe('parseUnitText: warnings (oracle 252 via systemd-analyze verify, same messages)', () => {
  const text = 'Outside=1\n[Unit]\nNoEquals\n=novalue\n[Foo]\nBar=1\n';
  const parsed = parseUnitText(text, 'w.service');

  it('reports assignments outside a section, missing "=" and missing key', () => {
    expect(parsed.warnings).toEqual([
      { file: 'w.service', line: 1, message: 'Assignment outside of section. Ignoring.' },
      { file: 'w.service', line: 3, message: "Missing '=', ignoring line." },
      { file: 'w.service', line: 4, message: "Missing key name before '=', ignoring line." },
    ]);
  });

  it('keeps assignments of unknown sections (the store decides) and lists the headers', () => {
    expect(parsed.assignments.map((a) => [a.section, a.key])).toEqual([['Foo', 'Bar']]);
    expect(parsed.sections).toEqual([
      { name: 'Unit', line: 2 },
      { name: 'Foo', line: 5 },
    ]);
  });

  it('a header may be indented and carry blanks inside the brackets', () => {
    const p = parseUnitText('  [Unit]  \n[ Odd ]\nK=v\n[]\n', 'h.service');
    expect(p.sections.map((h) => h.name)).toEqual(['Unit', ' Odd ', '']);
    expect(p.assignments.map((a) => a.section)).toEqual([' Odd ']);
  });

  it('trims whitespace around "=" and the key', () => {
    expect(pick('[A]\n  Key   =   spaced value  \t\n')).toEqual([['A', 'Key', 'spaced value', 2]]);
  });

  it('keeps a value with "=" inside', () => {
    expect(pick('[A]\nEnvironment=A=b=c\n')).toEqual([['A', 'Environment', 'A=b=c', 2]]);
  });
});

describe('parseUnitText: fatal errors', () => {
  it('a section header without "]" fails the file', () => {
    expect(() => parseUnitText('[Unit\nA=b\n', 'f.service')).toThrow(UnitFileSyntaxError);
    expect(() => parseUnitText('[Unit] x\n', 'f.service')).toThrow(/Invalid section header/);
  });

  it('quotes in a section header fail the file', () => {
    expect(() => parseUnitText('[Un"it]\n', 'f.service')).toThrow(/Bad characters in section header/);
  });

  it('a line of LONG_LINE_MAX bytes fails, one byte less is fine', () => {
    const ok = `[A]\nK=${'x'.repeat(LONG_LINE_MAX - 3)}\n`;
    expect(parseUnitText(ok, 'l.service').assignments[0]!.value.length).toBe(LONG_LINE_MAX - 3);
    const bad = `[A]\nK=${'x'.repeat(LONG_LINE_MAX - 2)}\n`;
    expect(() => parseUnitText(bad, 'l.service')).toThrow(/Line too long/);
  });

  it('continued lines longer than LONG_LINE_MAX in total fail', () => {
    const half = 'x'.repeat(LONG_LINE_MAX / 2 + 10);
    expect(() => parseUnitText(`[A]\nK=${half}\\\n${half}\n`, 'l.service')).toThrow(/Continuation line too long/);
  });

  it('invalid UTF-8 fails the file; in a comment it does not', () => {
    const bad = Buffer.concat([Buffer.from('[A]\nK='), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]);
    expect(() => parseUnitBytes(bad, 'u.service')).toThrow(/UTF-8/);
    const inComment = Buffer.concat([Buffer.from('[A]\n#'), Buffer.from([0xff]), Buffer.from('\nK=v\n')]);
    expect(parseUnitBytes(inComment, 'u.service').assignments.map((a) => a.value)).toEqual(['v']);
  });
});

describe('parseUnitText: what a fatal error carries', () => {
  // oracle 252: "[Unit] x" on line 10 → LoadState=error, LoadError InconsistentMessage "... Bad message",
  // and Description= from the lines before it ("a    b    d", continued with a comment inside) was kept.
  it('code and the assignments parsed before the fault', () => {
    const text = '[Unit]\nDescription=a \\\n  b \\\n#c\n  d\nNoEq \\\n x\n[Service]\nExecStart=/bin/true\n[Unit] x\nDescription=after\n';
    let caught: unknown;
    try {
      parseUnitText(text, 'h.service');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnitFileSyntaxError);
    const err = caught as UnitFileSyntaxError;
    expect([err.line, err.code, err.reason]).toEqual([10, 'EBADMSG', "Invalid section header '[Unit] x'"]);
    expect(SYNTAX_ERRNO[err.code].dbusName).toBe('org.freedesktop.DBus.Error.InconsistentMessage');
    expect(err.partial.assignments.map((a) => [a.key, a.value])).toEqual([
      ['Description', 'a    b    d'],
      ['ExecStart', '/bin/true'],
    ]);
    // systemd itself reports the continued "NoEq" at its last line (7); we keep the start line
    expect(err.partial.warnings.map((w) => [w.line, w.message])).toEqual([[6, "Missing '=', ignoring line."]]);
  });

  // oracle 252: a 1 MiB line → LimitsExceeded "No buffer space available"; invalid UTF-8 → InvalidArgs
  it('errno for long lines and bad UTF-8', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (err) {
        return (err as UnitFileSyntaxError).code;
      }
      return undefined;
    };
    expect(code(() => parseUnitText(`[A]\nK=${'x'.repeat(LONG_LINE_MAX)}\n`, 'l'))).toBe('ENOBUFS');
    expect(code(() => parseUnitBytes(Buffer.from([0x5b, 0x41, 0x5d, 0x0a, 0x4b, 0x3d, 0xff]), 'u'))).toBe('EINVAL');
    expect(SYNTAX_ERRNO.ENOBUFS.dbusName).toBe('org.freedesktop.DBus.Error.LimitsExceeded');
    expect(SYNTAX_ERRNO.EINVAL.dbusName).toBe('org.freedesktop.DBus.Error.InvalidArgs');
  });
});

describe('parseUnitText: BOM and line endings', () => {
  it('strips a UTF-8 BOM and handles CRLF', () => {
    const path = fixture('bom-crlf.service');
    const parsed = parseUnitBytes(readFileSync(path), path);
    expect(parsed.assignments.map((a) => [a.section, a.key, a.value, a.line])).toEqual([
      ['Unit', 'Description', 'crlf and bom', 2],
      ['Service', 'ExecStart', '/bin/true    --flag', 4],
    ]);
  });

  it('oracle 252: a BOM followed by "#" is not a comment (warned as outside a section)', () => {
    const parsed = parseUnitText('\ufeff# bom comment\n[Unit]\nDescription=bom\n', 'b.service');
    expect(parsed.warnings.map((w) => [w.line, w.message])).toEqual([
      [1, 'Assignment outside of section. Ignoring.'],
    ]);
    expect(parsed.assignments.map((a) => a.value)).toEqual(['bom']);
  });

  // oracle 252 (systemd-analyze verify): a file with only \r line ends reports "NoEq" on line 5
  it('old-Mac \\r line ends count lines', () => {
    const parsed = parseUnitText('[Unit]\rDescription=cr\r[Service]\rExecStart=/bin/true\rNoEq\r', 'cr.service');
    expect(parsed.warnings.map((w) => w.line)).toEqual([5]);
    expect(parsed.assignments.map((a) => a.value)).toEqual(['cr', '/bin/true']);
  });

  it('splits lines on \\n, \\r, \\r\\n, \\n\\r and NUL like read_line()', () => {
    expect(splitPhysicalLines('a\nb\r\nc\rd\n\re\n\nf\0g\n')).toEqual(['a', 'b', 'c', 'd', 'e', '', 'f', 'g']);
    expect(splitPhysicalLines('a\n')).toEqual(['a']);
    expect(splitPhysicalLines('')).toEqual([]);
  });
});

// Golden: test/fixtures/syntax/warnings.expected.txt is the output of systemd 252's
// `systemd-analyze --user verify warnings.service` (file name prefix removed).
describe('warnings match systemd-analyze verify (252)', () => {
  it('same lines, same messages', () => {
    const path = fixture('warnings.service');
    const parsed = parseUnitBytes(readFileSync(path), path);
    const expected = readFileSync(fixture('warnings.expected.txt'), 'utf8').trim().split('\n');
    expect(parsed.warnings.map((w) => `${w.line}: ${w.message}`)).toEqual(expected);
    expect(parsed.assignments.map((a) => [a.key, a.value])).toEqual([
      ['Description', 'Demo ; not a comment # nor this'],
      ['Anything', 'goes'],
      ['ExecStart', '/bin/echo a    b    c'],
      ['Type', 'oneshot'],
    ]);
  });
});
