// The Exec*= command line grammar, following systemd 252's config_parse_exec()
// (src/core/load-fragment.c). A value may hold several commands separated by a lone ";".

import { isAbsolute } from 'node:path';
import { accessSync, constants, statSync } from 'node:fs';
import type { ExecCommand, Origin } from './types.js';
import { stringIsSafe } from './syntax.js';
import { ExtractError, extractFirstWordAndWarn, WHITESPACE } from './words.js';

/**
 * The search path 252 uses at spawn time for a command given as a bare file name (e.g.
 * `ExecStart=true`); the name is kept as is in ExecCommand.path (systemctl shows path=true).
 */
export const DEFAULT_EXEC_SEARCH_PATH = [
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
] as const;

export interface ExecLineProblem {
  message: string;
  /**
   * true: systemd fails the unit (LoadState bad-setting). false: the rest of the line is ignored
   * with a warning (the `-` prefix downgrades errors this way), commands before it are kept.
   */
  fatal: boolean;
}

export interface ExecLineResult {
  /** an empty value: the caller resets the list for this setting */
  reset: boolean;
  /** commands to append, in order (also those before a problem) */
  commands: ExecCommand[];
  /** non-fatal notes, e.g. unknown escape sequences kept verbatim */
  warnings: string[];
  problem: ExecLineProblem | null;
}

/** Expands specifiers in one word: the path uses unit_path_printf, arguments unit_full_printf. */
export type ExecWordExpander = (word: string, kind: 'path' | 'argument') => string;

const PATH_MAX = 4096;
const NAME_MAX = 255;

function filenameIsValid(p: string): boolean {
  if (p === '' || p === '.' || p === '..') return false;
  if (p.includes('/')) return false;
  return Buffer.byteLength(p, 'utf8') <= NAME_MAX;
}

function pathIsValid(p: string): boolean {
  if (p === '' || Buffer.byteLength(p, 'utf8') >= PATH_MAX) return false;
  return p.split('/').every((c) => Buffer.byteLength(c, 'utf8') <= NAME_MAX);
}

/** path_simplify(): drop "." components, duplicate and trailing slashes. */
export function simplifyPath(p: string): string {
  const absolute = p.startsWith('/');
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
  const joined = parts.join('/');
  if (absolute) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

function isSeparatorAt(s: string, i: number, len: number): boolean {
  const after = s[i + len];
  return after === undefined || WHITESPACE.includes(after);
}

function skipWhitespace(s: string, i: number): number {
  while (i < s.length && WHITESPACE.includes(s[i]!)) i++;
  return i;
}

const WORD_OPTIONS = { unquote: true, cunescape: true } as const;

/**
 * Parses one Exec*= value into commands. Prefixes (each at most once, in any order): `-` ignore
 * failure, `@` argv[0] is the second word, `:` no $VAR expansion, `+` privileged, `!` no setuid,
 * `!!` ambient; `+` cannot be combined with `!`/`!!`. Prefixes are recognized after unquoting,
 * so `"-/bin/true"` also has the `-` prefix.
 */
export function parseExecLine(value: string, origin: Origin, expand?: ExecWordExpander): ExecLineResult {
  const result: ExecLineResult = { reset: false, commands: [], warnings: [], problem: null };
  if (value === '') {
    result.reset = true;
    return result;
  }
  const warn = (m: string): void => {
    result.warnings.push(m);
  };
  const expandWord = (w: string, kind: 'path' | 'argument'): string => (expand ? expand(w, kind) : w);

  let p = 0;
  // systemd names the rest of the value from the current command on in its messages
  let rvalue = value;
  let semicolon: boolean;
  do {
    semicolon = false;
    let first: string | null;
    try {
      const r = extractFirstWordAndWarn(value, p, WORD_OPTIONS, warn, rvalue);
      first = r.word;
      p = r.next;
    } catch (err) {
      if (!(err instanceof ExtractError)) throw err;
      // systemd logs it and drops the rest of the line, without failing the unit
      result.problem = { message: err.message, fatal: false };
      return result;
    }
    if (first === null) return result;
    if (first === ';') {
      semicolon = true;
      continue;
    }

    let ignoreFailure = false;
    let separateArgv0 = false;
    let noEnvExpand = false;
    let privileged = false;
    let noSetuid = false;
    let ambient = false;
    let k = 0;
    for (; k < first.length; k++) {
      const c = first[k];
      if (c === '-' && !ignoreFailure) ignoreFailure = true;
      else if (c === '@' && !separateArgv0) separateArgv0 = true;
      else if (c === ':' && !noEnvExpand) noEnvExpand = true;
      else if (c === '+' && !privileged && !noSetuid && !ambient) privileged = true;
      else if (c === '!' && !privileged && !noSetuid && !ambient) noSetuid = true;
      else if (c === '!' && !privileged && !ambient) {
        noSetuid = false;
        ambient = true;
      } else break;
    }
    // systemd's messages: "<what>[, ignoring]: <detail>"; the "-" prefix downgrades the error
    const failWith = (message: string): ExecLineResult => {
      result.problem = { message, fatal: !ignoreFailure };
      return result;
    };
    const fail = (what: string, detail: string): ExecLineResult =>
      failWith(`${what}${ignoreFailure ? ', ignoring' : ''}: ${detail}`);

    const rawPath = first.slice(k);
    let path: string;
    try {
      path = expandWord(rawPath, 'path');
    } catch (err) {
      return fail(`Failed to resolve unit specifiers in '${rawPath}'`, (err as Error).message);
    }
    if (path === '') return fail('Empty path in command line', `'${rvalue}'`);
    if (!stringIsSafe(path)) return fail('Executable name contains special characters', path);
    if (path.endsWith('/')) return fail('Executable path specifies a directory', path);
    if (!(isAbsolute(path) ? pathIsValid(path) : filenameIsValid(path))) {
      return fail('Neither a valid executable name nor an absolute path', path);
    }

    const argv: string[] = separateArgv0 ? [] : [path];
    while (p >= 0 && p < value.length) {
      if (value[p] === ';' && isSeparatorAt(value, p, 1)) {
        p = skipWhitespace(value, p + 1);
        semicolon = true;
        break;
      }
      // "\;" as a whole word is a literal ";" argument (checked on the raw text, so that "\\;"
      // or "\;" inside quotes keep their usual meaning)
      if (value[p] === '\\' && value[p + 1] === ';' && isSeparatorAt(value, p, 2)) {
        p = skipWhitespace(value, p + 2);
        argv.push(';');
        continue;
      }
      let word: string | null;
      try {
        const r = extractFirstWordAndWarn(value, p, WORD_OPTIONS, warn, rvalue);
        word = r.word;
        p = r.next;
      } catch (err) {
        if (!(err instanceof ExtractError)) throw err;
        return failWith(err.message);
      }
      if (word === null) break;
      try {
        argv.push(expandWord(word, 'argument'));
      } catch (err) {
        return fail(`Failed to resolve unit specifiers in ${word}`, (err as Error).message);
      }
    }

    if (argv.length === 0) return fail('Empty executable name or zeroeth argument', rvalue);

    result.commands.push({
      path: simplifyPath(path),
      argv,
      ignoreFailure,
      noEnvExpand,
      privileged,
      noSetuid,
      ambient,
      origin: { file: origin.file, line: origin.line },
    });
    rvalue = p >= 0 ? value.slice(p) : '';
  } while (semicolon);
  return result;
}

/** Resolves a bare command name over DEFAULT_EXEC_SEARCH_PATH the way 252 does when spawning. */
export function findExecutable(
  name: string,
  searchPath: readonly string[] = DEFAULT_EXEC_SEARCH_PATH,
): string | null {
  const isExecutableFile = (p: string): boolean => {
    try {
      if (!statSync(p).isFile()) return false;
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (name.includes('/')) return isExecutableFile(name) ? name : null;
  for (const dir of searchPath) {
    if (!dir.startsWith('/')) continue;
    const candidate = `${dir}/${name}`;
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}
