// systemd's word splitting (extract_first_word) and C-style unescaping, as used by Exec*= lines,
// Environment= and space-separated lists. Works on bytes internally: \xNN and octal escapes produce
// raw bytes, so "\xc3\xa9" becomes "é" once the word is decoded as UTF-8.

export const WHITESPACE = ' \t\n\r';

export interface ExtractOptions {
  /** characters that separate words; default WHITESPACE */
  separators?: string;
  /** remove "..." and '...' quoting */
  unquote?: boolean;
  /** decode C escapes (\n, \t, \xNN, \NNN, \uXXXX, \s, ...) */
  cunescape?: boolean;
  /** unbalanced quotes and a trailing backslash are accepted */
  relax?: boolean;
  /** unknown escapes and a trailing backslash are kept verbatim */
  unescapeRelax?: boolean;
}

/** Bad quoting or escaping; `kind` says which, for systemd's two different messages. */
export class ExtractError extends Error {
  constructor(
    message: string,
    readonly kind: 'quoting' | 'escape',
  ) {
    super(message);
    this.name = 'ExtractError';
  }
}

export interface Extracted {
  /** null when the input held no further word */
  word: string | null;
  /** where the next call continues; -1 when the input is used up */
  next: number;
}

function pushCodePoint(out: number[], cp: number): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else
    out.push(
      0xf0 | (cp >> 18),
      0x80 | ((cp >> 12) & 0x3f),
      0x80 | ((cp >> 6) & 0x3f),
      0x80 | (cp & 0x3f),
    );
}

function hexValue(c: string | undefined): number {
  if (c === undefined) return -1;
  const v = '0123456789abcdef'.indexOf(c.toLowerCase());
  return c.length === 1 ? v : -1;
}

function octValue(c: string | undefined): number {
  return c !== undefined && c >= '0' && c <= '7' ? c.charCodeAt(0) - 48 : -1;
}

function unicharIsValid(c: number): boolean {
  if (c >= 0x110000) return false;
  if ((c & 0xfffff800) === 0xd800) return false;
  if (c >= 0xfdd0 && c <= 0xfdef) return false;
  if ((c & 0xfffe) === 0xfffe) return false;
  return true;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  '\\': 0x5c,
  '"': 0x22,
  "'": 0x27,
  s: 0x20,
};

/**
 * Decodes one escape sequence starting at s[i] (the character after the backslash).
 * Returns the bytes it stands for and how many characters it used, or null if it is not valid.
 */
export function cunescapeOne(s: string, i: number): { bytes: number[]; length: number } | null {
  const c = s[i];
  if (c === undefined) return null;
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return { bytes: [simple], length: 1 };
  if (c === 'x') {
    const a = hexValue(s[i + 1]);
    const b = hexValue(s[i + 2]);
    if (a < 0 || b < 0 || (a === 0 && b === 0)) return null;
    return { bytes: [(a << 4) | b], length: 3 };
  }
  if (c === 'u' || c === 'U') {
    const n = c === 'u' ? 4 : 8;
    let cp = 0;
    for (let k = 1; k <= n; k++) {
      const d = hexValue(s[i + k]);
      if (d < 0) return null;
      cp = cp * 16 + d;
    }
    if (cp === 0) return null;
    if (c === 'U' && !unicharIsValid(cp)) return null;
    const bytes: number[] = [];
    pushCodePoint(bytes, cp);
    return { bytes, length: n + 1 };
  }
  if (c >= '0' && c <= '7') {
    const a = octValue(s[i]);
    const b = octValue(s[i + 1]);
    const d = octValue(s[i + 2]);
    if (a < 0 || b < 0 || d < 0) return null;
    const m = (a << 6) | (b << 3) | d;
    if (m === 0 || m > 255) return null;
    return { bytes: [m], length: 3 };
  }
  return null;
}

function decodeBytes(bytes: number[]): string {
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Extracts the first word of `s` starting at index `start`, with systemd's rules: leading
 * separators are skipped, quotes may start and end anywhere inside a word, and after the word
 * any run of separators is consumed. Throws ExtractError on bad quoting/escaping.
 */
export function extractFirstWord(s: string, start: number, opts: ExtractOptions = {}): Extracted {
  const seps = opts.separators ?? WHITESPACE;
  const n = s.length;
  let i = start;
  if (i < 0) return { word: null, next: -1 };
  while (i < n && seps.includes(s[i]!)) i++;
  if (i >= n) return { word: null, next: -1 };

  // The common word has no quote, no backslash and no surrogate (which the byte-wise path below
  // re-encodes): it is the text itself, sliced out rather than built byte by byte (that was a
  // quarter of the time of a unit file of millions of After= lines).
  let j = i;
  for (; j < n; j++) {
    const c = s[j]!;
    if (c === '\\' || seps.includes(c) || ((c === '"' || c === "'") && opts.unquote)) break;
    const code = s.charCodeAt(j);
    if (code >= 0xd800 && code <= 0xdfff) break;
  }
  if (j >= n || seps.includes(s[j]!)) {
    const word = s.slice(i, j);
    while (j < n && seps.includes(s[j]!)) j++;
    return { word, next: j >= n ? -1 : j };
  }

  const out: number[] = [];
  let quote = '';
  let backslash = false;
  const done = (next: number): Extracted => ({ word: decodeBytes(out), next });

  for (;;) {
    if (backslash) {
      backslash = false;
      if (i >= n) {
        if (opts.unescapeRelax && (quote === '' || opts.relax)) {
          out.push(0x5c);
          return done(-1);
        }
        if (opts.relax) return done(-1);
        throw new ExtractError('trailing backslash', 'escape');
      }
      const cp = s.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      if (opts.cunescape) {
        const esc = cunescapeOne(s, i);
        if (esc) {
          out.push(...esc.bytes);
          i += esc.length;
          continue;
        }
        if (!opts.unescapeRelax) throw new ExtractError('unknown escape sequence', 'escape');
        out.push(0x5c);
      }
      pushCodePoint(out, cp);
      i += width;
      continue;
    }

    if (i >= n) {
      if (quote !== '' && !opts.relax) throw new ExtractError('unbalanced quoting', 'quoting');
      return done(-1);
    }
    const c = s[i]!;

    if (quote !== '') {
      if (c === quote) quote = '';
      else if (c === '\\') backslash = true;
      else {
        const cp = s.codePointAt(i)!;
        pushCodePoint(out, cp);
        if (cp > 0xffff) i++;
      }
      i++;
      continue;
    }

    if ((c === '"' || c === "'") && opts.unquote) {
      quote = c;
      i++;
      continue;
    }
    if (c === '\\') {
      backslash = true;
      i++;
      continue;
    }
    if (seps.includes(c)) {
      while (i < n && seps.includes(s[i]!)) i++;
      return done(i >= n ? -1 : i);
    }
    const cp = s.codePointAt(i)!;
    pushCodePoint(out, cp);
    i += cp > 0xffff ? 2 : 1;
  }
}

/**
 * extract_first_word_and_warn: on a bad escape, retries keeping unknown escapes verbatim and
 * reports a warning through `warn`; bad quoting stays an error (ExtractError with systemd's text).
 */
export function extractFirstWordAndWarn(
  s: string,
  start: number,
  opts: ExtractOptions,
  warn: (message: string) => void,
  /** the text named in the "Unbalanced quoting" message; defaults to `s` */
  rvalue: string = s,
): Extracted {
  try {
    return extractFirstWord(s, start, opts);
  } catch (err) {
    if (!(err instanceof ExtractError) || opts.unescapeRelax) throw err;
  }
  let retried: Extracted;
  try {
    retried = extractFirstWord(s, start, { ...opts, unescapeRelax: true });
  } catch (err) {
    if (err instanceof ExtractError) {
      throw new ExtractError(`Unbalanced quoting, ignoring: "${rvalue}"`, 'quoting');
    }
    throw err;
  }
  warn(`Ignoring unknown escape sequences: "${retried.word ?? ''}"`);
  return retried;
}

/**
 * Splits a space-separated list the way systemd does for Environment= and similar settings:
 * "..." and '...' quoting, C escapes. Unknown escapes are kept verbatim (reported via `warn`);
 * unbalanced quoting throws ExtractError.
 */
export function splitWords(
  s: string,
  opts: ExtractOptions = { unquote: true, cunescape: true },
  warn: (message: string) => void = () => {},
): string[] {
  const words: string[] = [];
  let pos = 0;
  for (;;) {
    const r = extractFirstWordAndWarn(s, pos, opts, warn);
    if (r.word === null) return words;
    words.push(r.word);
    pos = r.next;
  }
}
