import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { DEFAULT_EXEC_SEARCH_PATH, findExecutable, parseExecLine, simplifyPath } from '../../../src/units/exec-line.js';
import type { ExecCommand } from '../../../src/units/types.js';

const origin = { file: '/u/x.service', line: 3 };

function ok(value: string): ExecCommand[] {
  const r = parseExecLine(value, origin);
  expect(r.problem).toBeNull();
  return r.commands;
}

const argvs = (value: string): string[][] => ok(value).map((c) => c.argv);

type Flags = Pick<ExecCommand, 'ignoreFailure' | 'noEnvExpand' | 'privileged' | 'noSetuid' | 'ambient'>;
const flags = (c: ExecCommand): Flags => ({
  ignoreFailure: c.ignoreFailure,
  noEnvExpand: c.noEnvExpand,
  privileged: c.privileged,
  noSetuid: c.noSetuid,
  ambient: c.ambient,
});
const NONE: Flags = { ignoreFailure: false, noEnvExpand: false, privileged: false, noSetuid: false, ambient: false };

describe('parseExecLine: one command', () => {
  it('argv includes argv[0]; path is the first word', () => {
    const [c] = ok('/bin/echo hello world');
    expect(c).toEqual({ path: '/bin/echo', argv: ['/bin/echo', 'hello', 'world'], ...NONE, origin });
  });

  it('empty value means reset', () => {
    const r = parseExecLine('', origin);
    expect(r.reset).toBe(true);
    expect(r.commands).toEqual([]);
  });

  // oracle 252: ExecStart="/bin/echo" "x"y'z' \s → argv /bin/echo, xyz, " "
  it('quotes may appear anywhere in a word; \\s is a space', () => {
    expect(argvs(`"/bin/echo" "x"y'z' \\s`)).toEqual([['/bin/echo', 'xyz', ' ']]);
  });

  // oracle 252: a\tb 'c d' \x41\101 → "a<TAB>b", "c d", "AA"
  it('decodes C escapes inside and outside quotes', () => {
    expect(argvs(`/bin/echo a\\tb 'c d' \\x41\\101 "\\n\\"" '\\''`)).toEqual([
      ['/bin/echo', 'a\tb', 'c d', 'AA', '\n"', "'"],
    ]);
    expect(argvs('/bin/echo \\xc3\\xa9 \\u00e9 \\U0001F600 \\\\')).toEqual([['/bin/echo', 'é', 'é', '😀', '\\']]);
  });

  it('keeps an unknown escape verbatim, with a warning', () => {
    // oracle 252: "Ignoring unknown escape sequences: "x\q""
    const r = parseExecLine('/bin/echo x\\q y', origin);
    expect(r.problem).toBeNull();
    expect(r.commands[0]!.argv).toEqual(['/bin/echo', 'x\\q', 'y']);
    expect(r.warnings).toEqual(['Ignoring unknown escape sequences: "x\\q"']);
  });

  // oracle 252: "/usr//bin/./env" → path=/usr/bin/env, argv[0] unchanged
  it('simplifies the path but not argv[0]', () => {
    const [c] = ok('/usr//bin/./env');
    expect(c!.path).toBe('/usr/bin/env');
    expect(c!.argv).toEqual(['/usr//bin/./env']);
  });

  // oracle 252: ExecStartPre=true x → path=true argv[]=true x (resolved only when spawned)
  it('accepts a bare file name and keeps it unresolved', () => {
    const [c] = ok('true x');
    expect(c!.path).toBe('true');
    expect(c!.argv).toEqual(['true', 'x']);
  });
});

describe('parseExecLine: prefixes', () => {
  // oracle 252 (ExecStartEx flags): every combination below as shown by systemctl show
  it.each([
    ['-/bin/true', { ...NONE, ignoreFailure: true }],
    [':/bin/true', { ...NONE, noEnvExpand: true }],
    ['+/bin/true', { ...NONE, privileged: true }],
    ['!/bin/true', { ...NONE, noSetuid: true }],
    ['!!/bin/true', { ...NONE, ambient: true }],
    [':+/bin/true', { ...NONE, privileged: true, noEnvExpand: true }],
    ['-!!:/bin/true', { ...NONE, ignoreFailure: true, ambient: true, noEnvExpand: true }],
    ['+-:/bin/true', { ...NONE, ignoreFailure: true, privileged: true, noEnvExpand: true }],
    ['!-/bin/true', { ...NONE, ignoreFailure: true, noSetuid: true }],
  ])('%s', (value, expected) => {
    const [c] = ok(value);
    expect(c!.path).toBe('/bin/true');
    expect(c!.argv).toEqual(['/bin/true']);
    expect(flags(c!)).toEqual(expected);
  });

  it('@ takes argv[0] from the second word', () => {
    // oracle 252: -@/bin/sh mysh -c "echo \"q\"" → path=/bin/sh argv[]=mysh -c echo "q"
    const [c] = ok('-@/bin/sh mysh -c "echo \\"q\\""');
    expect(c!.path).toBe('/bin/sh');
    expect(c!.argv).toEqual(['mysh', '-c', 'echo "q"']);
    expect(c!.ignoreFailure).toBe(true);
    // oracle 252: -!!:@/bin/echo e → argv[]=e, flags ignore-failure ambient no-env-expand
    const [d] = ok('-!!:@/bin/echo e');
    expect(d!.argv).toEqual(['e']);
    expect(flags(d!)).toEqual({ ...NONE, ignoreFailure: true, ambient: true, noEnvExpand: true });
  });

  // oracle 252: "-/bin/true" "a b" → ignore_errors=yes argv /bin/true "a b"
  it('recognizes prefixes after unquoting', () => {
    const [c] = ok('"-/bin/true" "a b"');
    expect(c!.ignoreFailure).toBe(true);
    expect(c!.argv).toEqual(['/bin/true', 'a b']);
  });

  // oracle 252: +!/bin/true → bad-setting; -+!/bin/true → ignored, unit loads
  it('+ and ! do not combine: the ! stays in the path, which is then invalid', () => {
    const r = parseExecLine('+!/bin/true', origin);
    expect(r.commands).toEqual([]);
    expect(r.problem).toEqual({
      message: 'Neither a valid executable name nor an absolute path: !/bin/true',
      fatal: true,
    });
    const r2 = parseExecLine('-+!/bin/true', origin);
    expect(r2.problem).toEqual({
      message: 'Neither a valid executable name nor an absolute path, ignoring: !/bin/true',
      fatal: false,
    });
  });

  it('a repeated prefix is part of the path', () => {
    expect(parseExecLine('--/bin/true', origin).problem?.fatal).toBe(false);
    expect(parseExecLine('::/bin/true', origin).problem?.fatal).toBe(true);
    expect(parseExecLine('!!!/bin/true', origin).problem?.fatal).toBe(true);
  });
});

describe('parseExecLine: several commands', () => {
  // oracle 252: all four commands were kept; "!/bin/true;x" is one word, trailing ";" is fine
  it('splits on a lone ";"', () => {
    const cmds = ok('/bin/a 1 ; :/bin/b 2;3 ; !!/bin/true ; !/bin/true;x ;');
    expect(cmds.map((c) => c.argv)).toEqual([['/bin/a', '1'], ['/bin/b', '2;3'], ['/bin/true'], ['/bin/true;x']]);
    expect(cmds.map((c) => c.path)).toEqual(['/bin/a', '/bin/b', '/bin/true', '/bin/true;x']);
    expect(cmds[1]!.noEnvExpand).toBe(true);
    expect(cmds[2]!.ambient).toBe(true);
    expect(cmds.every((c) => c.origin.line === 3)).toBe(true);
  });

  it('a leading or doubled ";" is skipped', () => {
    expect(argvs('; /bin/a ; ; /bin/b')).toEqual([['/bin/a'], ['/bin/b']]);
  });

  // oracle 252: /bin/echo \; x\; "y;" \\; → argv /bin/echo ; x\; y; \;
  it('\\; as a word is a literal ";" argument; other spellings keep their usual meaning', () => {
    const r = parseExecLine('/bin/echo \\; x\\; "y;" \\\\;', origin);
    expect(r.problem).toBeNull();
    expect(r.commands.map((c) => c.argv)).toEqual([['/bin/echo', ';', 'x\\;', 'y;', '\\;']]);
  });

  it('";" quoted as an argument is not a separator', () => {
    expect(argvs('/bin/echo ";" x')).toEqual([['/bin/echo', ';', 'x']]);
  });
});

describe('parseExecLine: errors', () => {
  // oracle 252: unbalanced quoting in an argument fails the unit; with "-" the line is ignored
  it('unbalanced quoting', () => {
    const r = parseExecLine('/bin/echo "unbalanced', origin);
    expect(r.commands).toEqual([]);
    expect(r.problem?.fatal).toBe(true);
    expect(r.problem?.message).toMatch(/Unbalanced quoting/);
    expect(parseExecLine('-/bin/echo "unbalanced', origin).problem?.fatal).toBe(false);
  });

  // oracle 252: ExecStart=bin/true → bad-setting
  it('a relative path with a slash is refused', () => {
    expect(parseExecLine('bin/true', origin).problem).toEqual({
      message: 'Neither a valid executable name nor an absolute path: bin/true',
      fatal: true,
    });
  });

  // oracle 252: ExecStart=@/bin/echo → bad-setting, commands before it were kept
  it('@ without argv[0] is an error; earlier commands are kept', () => {
    const r = parseExecLine('/bin/a ; @/bin/echo', origin);
    expect(r.commands.map((c) => c.path)).toEqual(['/bin/a']);
    // oracle 252 (systemd-analyze verify): the message names the rest of the value from that command on
    expect(r.problem).toEqual({ message: 'Empty executable name or zeroeth argument: @/bin/echo', fatal: true });
  });

  // oracle 252 (systemd-analyze verify) messages for errors in a later command
  it('messages name the text from the failing command on', () => {
    expect(parseExecLine('/bin/a ; /bin/b "x', origin).problem).toEqual({
      message: 'Unbalanced quoting, ignoring: "/bin/b "x"',
      fatal: true,
    });
    expect(parseExecLine('/bin/a ; -', origin).problem).toEqual({
      message: "Empty path in command line, ignoring: '-'",
      fatal: false,
    });
    const r = parseExecLine('/bin/a ; ; -/bin/b "x', origin);
    expect(r.problem).toEqual({ message: 'Unbalanced quoting, ignoring: "; -/bin/b "x"', fatal: false });
    expect(r.commands.map((c) => c.path)).toEqual(['/bin/a']);
  });

  it('an empty path, a directory, special characters', () => {
    expect(parseExecLine('-', origin).problem).toEqual({ message: "Empty path in command line, ignoring: '-'", fatal: false });
    expect(parseExecLine('""', origin).problem?.fatal).toBe(true);
    expect(parseExecLine('/bin/', origin).problem?.message).toBe('Executable path specifies a directory: /bin/');
    expect(parseExecLine('"/bin/a\\"b"', origin).problem?.message).toMatch(/special characters/);
    expect(parseExecLine('..', origin).problem?.fatal).toBe(true);
    expect(parseExecLine(`${'a'.repeat(256)}`, origin).problem?.fatal).toBe(true);
    expect(parseExecLine(`/${'a'.repeat(255)}`, origin).problem).toBeNull();
  });
});

describe('parseExecLine: specifier expansion hook', () => {
  it('expands the path and each argument, but not a literal "\\;"', () => {
    const seen: string[] = [];
    const r = parseExecLine('/bin/%p x%i \\; "%%"', origin, (w, kind) => {
      seen.push(`${kind}:${w}`);
      return w.replace('%p', 'echo').replace('%i', 'I').replace('%%', '%');
    });
    expect(r.commands[0]!.argv).toEqual(['/bin/echo', 'xI', ';', '%']);
    expect(seen).toEqual(['path:/bin/%p', 'argument:x%i', 'argument:%%']);
  });

  // oracle 252: ExecStart=/bin/echo %z → bad-setting; ExecStart=-/bin/echo %z → ignored
  it('a failing expansion is fatal unless "-"', () => {
    const fail = (): string => {
      throw new Error('Invalid slot');
    };
    expect(parseExecLine('/bin/echo %z', origin, (w) => (w.includes('%z') ? fail() : w)).problem).toEqual({
      message: 'Failed to resolve unit specifiers in %z: Invalid slot',
      fatal: true,
    });
    expect(parseExecLine('-/bin/echo %z', origin, (w) => (w.includes('%z') ? fail() : w)).problem?.fatal).toBe(false);
  });
});

describe('helpers', () => {
  it('simplifyPath', () => {
    expect(simplifyPath('/usr//bin/./env')).toBe('/usr/bin/env');
    expect(simplifyPath('/a/b/')).toBe('/a/b');
    expect(simplifyPath('/a/../b')).toBe('/a/../b');
    expect(simplifyPath('true')).toBe('true');
  });

  const systemdPath = ((): string | null => {
    try {
      return execFileSync('systemd-path', ['search-binaries-default'], { encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  })();
  // 252 resolves bare names over its compiled-in default, not $PATH (find_executable_full with
  // use_path_envvar=false); systemd-path prints that default.
  it.skipIf(systemdPath === null)('the search path is the one systemd 252 was built with', () => {
    expect(DEFAULT_EXEC_SEARCH_PATH.join(':')).toBe(systemdPath);
  });

  it('findExecutable searches the fixed path for bare names', () => {
    expect(findExecutable('sh')).toMatch(/^\/(usr\/)?(s)?bin\/sh$/);
    expect(findExecutable('no-such-binary-xyz')).toBeNull();
    expect(findExecutable('/bin/sh')).toBe('/bin/sh');
    expect(findExecutable('sh', ['relative', '/nonexistent'])).toBeNull();
  });
});
