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
 * Settings before the fault did take effect in 252 (Description= from earlier lines is shown):
 * scanUnitText() has handed them over when it throws, and parseUnitText() puts what it collected up
 * to there in `partial`.
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

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

/**
 * The physical lines of a text as systemd's read_line() finds them: \n, \r, \r\n, \n\r and \0
 * (optionally after one of those) end a line; a run like \n\n is two lines. A final terminator
 * adds no line. One at a time, so that a large file is not held a second time as an array of lines.
 */
export function* physicalLines(text: string): Generator<string, void, undefined> {
  const n = text.length;
  let i = 0;
  while (i < n) {
    let j = i;
    for (let c = text.charCodeAt(j); j < n && c !== LF && c !== CR && c !== NUL; c = text.charCodeAt(++j));
    yield text.slice(i, j);
    if (j >= n) return;
    // consume one terminator group: each of \n and \r at most once, a \0 ends the group
    let seenNL = false;
    let seenCR = false;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === NUL) {
        j++;
        break;
      }
      if (c === LF && !seenNL) seenNL = true;
      else if (c === CR && !seenCR) seenCR = true;
      else break;
      j++;
    }
    i = j;
  }
}

/** physicalLines() as an array. */
export function splitPhysicalLines(text: string): string[] {
  return [...physicalLines(text)];
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
 * What the parser finds, handed over in file order as it finds it, as config_parse() acts on each
 * line in turn: nothing of a file is held as a list of lines or assignments, and a receiver that
 * throws stops the parse there (as a fatal setting stops 252's).
 */
export interface UnitTextSink {
  assignment(a: Assignment): void;
  warning(w: ParseWarning): void;
  section(h: SectionHeader): void;
}

/**
 * Parses unit file text into `sink`. Recoverable problems become warnings (with systemd's
 * messages); a fault that makes systemd drop the whole file throws UnitFileSyntaxError, after what
 * came before it was handed over. Each assignment's `line` is the line where it starts (systemd's
 * own messages use the last line of a continued assignment).
 */
export function scanUnitText(text: string, path: string, sink: UnitTextSink, options: ParseOptions = {}): void {
  const warn = (line: number, message: string): void => {
    sink.warning({ file: path, line, message });
  };

  const fatal = (line: number, reason: string, code: SyntaxErrno): never => {
    throw new UnitFileSyntaxError(path, line, reason, code);
  };

  let section: string | null = null;
  let bomSeen = false;
  // A line continued with a backslash: its pieces so far, each ending in the space that replaced
  // the backslash, and their size in bytes. Kept as pieces and a running count, not one string
  // grown and measured again per line: that made a continued line of 100k short lines quadratic.
  let continuation: string[] | null = null;
  let continuationBytes = 0;
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
      sink.section({ name, line });
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
    sink.assignment({
      file: path,
      line,
      section,
      key: trimWhitespace(l.slice(0, eq)),
      value: trimWhitespace(l.slice(eq + 1)),
    });
  };

  let lineNo = 0;
  for (const buf of physicalLines(text)) {
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

    const bytes = Buffer.byteLength(l, 'utf8');
    if (continuation !== null && continuationBytes + bytes > LONG_LINE_MAX) {
      fatal(lineNo, 'Continuation line too long', 'ENOBUFS');
    }

    // config_parse() looks for the unescaped trailing backslash in the whole continued line; the
    // part before this line ends in the space that replaced one, outside any escape, so this line
    // alone decides
    if (endsWithContinuation(l)) {
      if (continuation === null) {
        continuation = [];
        continuationBytes = 0;
        continuationStart = lineNo;
      }
      continuation.push(l.slice(0, -1) + ' ');
      continuationBytes += bytes;
      continue;
    }

    if (continuation !== null) {
      handleLine(continuation.join('') + l, continuationStart, lineNo);
      continuation = null;
    } else {
      handleLine(l, lineNo, lineNo);
    }
  }

  if (continuation !== null) {
    handleLine(continuation.join(''), continuationStart, lineNo + 1);
  }
}

/**
 * scanUnitText() collected: the assignments, warnings and section headers of the text. A
 * UnitFileSyntaxError carries in `partial` what came before the fault.
 */
export function parseUnitText(text: string, path: string, options: ParseOptions = {}): ParsedUnitFile {
  const parsed: ParsedUnitFile = { path, assignments: [], warnings: [], sections: [] };
  try {
    scanUnitText(text, path, collectInto(parsed), options);
  } catch (err) {
    if (err instanceof UnitFileSyntaxError) err.partial = parsed;
    throw err;
  }
  return parsed;
}

function collectInto(parsed: ParsedUnitFile): UnitTextSink {
  return {
    assignment: (a) => void parsed.assignments.push(a),
    warning: (w) => void parsed.warnings.push(w),
    section: (h) => void parsed.sections.push(h),
  };
}

/**
 * Decodes raw file bytes for scanUnitText(): UTF-8; when the bytes are not valid UTF-8, the
 * (non-comment) lines holding invalid sequences make the file fail, as in systemd.
 */
function decodeUnitBytes(bytes: Uint8Array): { text: string; options: ParseOptions } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), options: {} };
  } catch {
    return { text: new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(bytes), options: { checkReplacementChar: true } };
  }
}

/** scanUnitText() on raw file bytes. */
export function scanUnitBytes(bytes: Uint8Array, path: string, sink: UnitTextSink): void {
  const { text, options } = decodeUnitBytes(bytes);
  scanUnitText(text, path, sink, options);
}

/** parseUnitText() on raw file bytes. */
export function parseUnitBytes(bytes: Uint8Array, path: string): ParsedUnitFile {
  const { text, options } = decodeUnitBytes(bytes);
  return parseUnitText(text, path, options);
}
