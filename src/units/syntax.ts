// The unit file lexer: turns text into ordered Key=value assignments with their origin, following
// systemd 252's config_parse()/parse_line() (src/shared/conf-parser.c). It knows nothing about which
// sections or keys exist: unknown sections are kept, the store decides.

import type { Assignment, Origin, ParsedFile, ParseWarning } from './types.js';
import { WHITESPACE } from './words.js';

/** systemd's LONG_LINE_MAX: a physical line of this many bytes (or more) fails the whole file. */
export const LONG_LINE_MAX = 1024 * 1024;

const BOM = '\ufeff';

/** errno of a fatal parse fault, with the D-Bus error and strerror text 252 shows in LoadError. */
export const SYNTAX_ERRNO = {
  EBADMSG: { dbusName: 'org.freedesktop.DBus.Error.InconsistentMessage', text: 'Bad message' },
  ENOBUFS: { dbusName: 'org.freedesktop.DBus.Error.LimitsExceeded', text: 'No buffer space available' },
  EINVAL: { dbusName: 'org.freedesktop.DBus.Error.InvalidArgs', text: 'Invalid argument' },
} as const;

export type SyntaxErrno = keyof typeof SYNTAX_ERRNO;

/**
 * A fault that makes systemd stop parsing the file, and the unit fails to load (LoadState=error):
 * a malformed section header (EBADMSG), an over-long line (ENOBUFS), invalid UTF-8 (EINVAL).
 * Settings before the fault did take effect in 252 (Description= from earlier lines is shown), so
 * `partial` holds what was parsed up to there.
 */
export class UnitFileSyntaxError extends Error implements Origin {
  partial: ParsedUnitFile;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
    readonly code: SyntaxErrno,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'UnitFileSyntaxError';
    this.partial = { path: file, assignments: [], warnings: [], sections: [] };
  }
}

/** `[X-...]` sections are silently ignored by systemd; other unknown sections get a warning. */
export function isIgnoredSectionName(name: string): boolean {
  return name.startsWith('X-');
}

/**
 * Splits into physical lines as systemd's read_line() does: \n, \r, \r\n, \n\r and \0 (optionally
 * after one of those) end a line; a run like \n\n is two lines. A final terminator adds no line.
 */
export function splitPhysicalLines(text: string): string[] {
  const lines: string[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j < n && text[j] !== '\n' && text[j] !== '\r' && text[j] !== '\0') j++;
    lines.push(text.slice(i, j));
    if (j >= n) break;
    // consume one terminator group: each of \n and \r at most once, a \0 ends the group
    let seenNL = false;
    let seenCR = false;
    while (j < n) {
      const c = text[j];
      if (c === '\0') {
        j++;
        break;
      }
      if (c === '\n' && !seenNL) seenNL = true;
      else if (c === '\r' && !seenCR) seenCR = true;
      else break;
      j++;
    }
    i = j;
  }
  return lines;
}

function trimWhitespace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && WHITESPACE.includes(s[a]!)) a++;
  while (b > a && WHITESPACE.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** systemd's string_is_safe(): no control characters, no quotes, no backslash. */
export function stringIsSafe(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if ((c > 0 && c < 0x20) || c === 0x7f) return false;
    if (ch === '"' || ch === "'" || ch === '\\') return false;
  }
  return true;
}

/** Ends with an odd number of backslashes, i.e. an unescaped one: the line continues. */
function endsWithContinuation(s: string): boolean {
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    if (escaped) escaped = false;
    else if (s[i] === '\\') escaped = true;
  }
  return escaped;
}

/** A `[Section]` header and the line it is on (for "Unknown section" warnings, which need the unit type). */
export interface SectionHeader {
  name: string;
  line: number;
}

export interface ParsedUnitFile extends ParsedFile {
  /** every section header in file order, including unknown and X- ones */
  sections: SectionHeader[];
}

export interface ParseOptions {
  /** Lines whose text holds U+FFFD are treated as invalid UTF-8 (set by parseUnitBytes). */
  checkReplacementChar?: boolean;
}

/**
 * Parses unit file text. Recoverable problems become warnings (with systemd's messages); faults
 * that make systemd drop the whole file throw UnitFileSyntaxError.
 * Each assignment's `line` is the line where it starts (systemd's own messages use the last line
 * of a continued assignment).
 */
export function parseUnitText(text: string, path: string, options: ParseOptions = {}): ParsedUnitFile {
  const assignments: Assignment[] = [];
  const warnings: ParseWarning[] = [];
  const sections: SectionHeader[] = [];
  const warn = (line: number, message: string): void => {
    warnings.push({ file: path, line, message });
  };

  const fatal = (line: number, reason: string, code: SyntaxErrno): never => {
    const err = new UnitFileSyntaxError(path, line, reason, code);
    err.partial = { path, assignments, warnings, sections };
    throw err;
  };

  let section: string | null = null;
  let bomSeen = false;
  let continuation: string | null = null;
  let continuationStart = 0;

  const handleLine = (raw: string, line: number, reportLine: number): void => {
    const l = trimWhitespace(raw);
    if (l === '') return;
    if (options.checkReplacementChar && l.includes('\ufffd')) {
      fatal(reportLine, 'String is not UTF-8 clean', 'EINVAL');
    }
    if (l.startsWith('[')) {
      if (!l.endsWith(']')) {
        fatal(reportLine, `Invalid section header '${l}'`, 'EBADMSG');
      }
      const name = l.slice(1, -1);
      if (!stringIsSafe(name)) {
        fatal(reportLine, `Bad characters in section header '${l}'`, 'EBADMSG');
      }
      section = name;
      sections.push({ name, line });
      return;
    }
    if (section === null) {
      warn(line, 'Assignment outside of section. Ignoring.');
      return;
    }
    const eq = l.indexOf('=');
    if (eq < 0) {
      warn(line, "Missing '=', ignoring line.");
      return;
    }
    if (eq === 0) {
      warn(line, "Missing key name before '=', ignoring line.");
      return;
    }
    assignments.push({
      file: path,
      line,
      section,
      key: trimWhitespace(l.slice(0, eq)),
      value: trimWhitespace(l.slice(eq + 1)),
    });
  };

  const lines = splitPhysicalLines(text);
  let lineNo = 0;
  for (const buf of lines) {
    lineNo++;
    if (Buffer.byteLength(buf, 'utf8') >= LONG_LINE_MAX) {
      // systemd reports this before counting the line, i.e. with the previous line's number
      fatal(lineNo - 1, 'Line too long', 'ENOBUFS');
    }

    // The comment test looks at the raw line, before a BOM is removed and also inside a
    // continuation: comment lines there are skipped without ending it.
    const firstNonWs = trimWhitespace(buf)[0];
    if (firstNonWs === '#' || firstNonWs === ';') continue;

    let l = buf;
    if (!bomSeen && l.startsWith(BOM)) {
      l = l.slice(BOM.length);
      bomSeen = true;
    }

    let joined: string;
    if (continuation !== null) {
      if (Buffer.byteLength(continuation, 'utf8') + Buffer.byteLength(l, 'utf8') > LONG_LINE_MAX) {
        fatal(lineNo, 'Continuation line too long', 'ENOBUFS');
      }
      joined = continuation + l;
    } else {
      joined = l;
    }

    if (endsWithContinuation(joined)) {
      if (continuation === null) continuationStart = lineNo;
      continuation = joined.slice(0, -1) + ' ';
      continue;
    }

    const start = continuation !== null ? continuationStart : lineNo;
    handleLine(joined, start, lineNo);
    continuation = null;
  }

  if (continuation !== null) {
    handleLine(continuation, continuationStart, lineNo + 1);
  }

  return { path, assignments, warnings, sections };
}

/**
 * Parses raw file bytes: decodes UTF-8; when the bytes are not valid UTF-8, the (non-comment)
 * lines holding invalid sequences make the file fail, as in systemd.
 */
export function parseUnitBytes(bytes: Uint8Array, path: string): ParsedUnitFile {
  let text: string;
  let invalid = false;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(bytes);
    invalid = true;
  }
  return parseUnitText(text, path, { checkReplacementChar: invalid });
}
