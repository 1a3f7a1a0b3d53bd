// Value parsers for unit file settings, with systemd 252's rules (parse_boolean, parse_time,
// signal_from_string, config_parse_set_status). Bad values throw ValueError; callers report them
// as "file:line: message" with formatAt().

import type { ExitStatusSet, Origin } from './types.js';
import { USEC_INFINITY } from './types.js';
import { ExtractError, extractFirstWord, WHITESPACE } from './words.js';

export { splitWords, ExtractError } from './words.js';

export class ValueError extends Error {
  constructor(
    message: string,
    /** the errno systemd would report: EINVAL (malformed) or ERANGE (out of range) */
    readonly code: 'EINVAL' | 'ERANGE' = 'EINVAL',
  ) {
    super(message);
    this.name = 'ValueError';
  }
}

/** "file:line: message", the shape of systemd's log_syntax() messages. */
export function formatAt(origin: Origin, message: string): string {
  return `${origin.file}:${origin.line}: ${message}`;
}

// ---------------------------------------------------------------------------------------------
// C integer parsing (safe_atoi / safe_atou): leading whitespace, optional sign, base prefixes
// 0x (hex), 0 (octal), and systemd's own 0b/0o, nothing after the digits.

type CIntResult = { ok: true; value: bigint } | { ok: false; code: 'EINVAL' | 'ERANGE' };

function parseCInteger(input: string, unsigned: boolean, max: bigint, min: bigint): CIntResult {
  let s = input.replace(/^[ \t\n\r]+/, '');
  let base = 0;
  const lower2 = s.slice(0, 2).toLowerCase();
  if (lower2 === '0b') {
    base = 2;
    s = s.slice(2);
  } else if (lower2 === '0o') {
    base = 8;
    s = s.slice(2);
  }
  // strtol itself skips whitespace (also after a 0b/0o prefix)
  s = s.replace(/^[ \t\n\r\f\v]+/, '');
  let negative = false;
  if (s[0] === '+' || s[0] === '-') {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (base === 0) {
    if (/^0[xX][0-9a-fA-F]/.test(s)) {
      base = 16;
      s = s.slice(2);
    } else if (s.startsWith('0')) base = 8;
    else base = 10;
  }
  const digitRe = base === 16 ? /^[0-9a-fA-F]+/ : base === 10 ? /^[0-9]+/ : base === 8 ? /^[0-7]+/ : /^[01]+/;
  const m = digitRe.exec(s);
  if (!m || m[0].length !== s.length) return { ok: false, code: 'EINVAL' };
  let v = 0n;
  for (const d of m[0]) v = v * BigInt(base) + BigInt(parseInt(d, 16));
  if (negative) v = -v;
  if (unsigned && v !== 0n && negative) return { ok: false, code: 'ERANGE' };
  if (v > max || v < min) return { ok: false, code: 'ERANGE' };
  return { ok: true, value: v };
}

function safeAtoi(s: string): CIntResult {
  return parseCInteger(s, false, 0x7fffffffn, -0x80000000n);
}

/** safe_atou64(): a uint64 in C integer syntax, undefined when it is not one (max: the largest allowed) */
export function safeAtou64(s: string, max = 0xffff_ffff_ffff_ffffn): bigint | undefined {
  const r = parseCInteger(s, true, max, 0n);
  return r.ok ? r.value : undefined;
}

// ---------------------------------------------------------------------------------------------
// Booleans

const TRUE_WORDS = ['1', 'yes', 'y', 'true', 't', 'on'];
const FALSE_WORDS = ['0', 'no', 'n', 'false', 'f', 'off'];

export function parseBoolean(s: string): boolean {
  const v = s.toLowerCase();
  if (TRUE_WORDS.includes(v)) return true;
  if (FALSE_WORDS.includes(v)) return false;
  throw new ValueError(`Failed to parse boolean value: ${s}`);
}

// ---------------------------------------------------------------------------------------------
// Signals (Linux numbering; glibc reserves two real-time signals, so SIGRTMIN is 34)

export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

const SIGNAL_NAMES: readonly (string | undefined)[] = [
  undefined,
  'HUP',
  'INT',
  'QUIT',
  'ILL',
  'TRAP',
  'ABRT',
  'BUS',
  'FPE',
  'KILL',
  'USR1',
  'SEGV',
  'USR2',
  'PIPE',
  'ALRM',
  'TERM',
  'STKFLT',
  'CHLD',
  'CONT',
  'STOP',
  'TSTP',
  'TTIN',
  'TTOU',
  'URG',
  'XCPU',
  'XFSZ',
  'VTALRM',
  'PROF',
  'WINCH',
  'IO',
  'PWR',
  'SYS',
];

/**
 * signal_from_string(): a number 1..64 (C integer syntax, so "0x9" and "010" count), or a name
 * with or without "SIG" (case-sensitive: "sigterm" is refused), "RTMIN", "RTMIN+n", "RTMAX",
 * "RTMAX-n".
 */
export function parseSignal(s: string): number {
  const num = safeAtoi(s);
  if (num.ok) {
    const n = Number(num.value);
    if (n > 0 && n <= SIGRTMAX) return n;
    throw new ValueError(`Signal number out of range: ${s}`, 'ERANGE');
  }
  const name = s.startsWith('SIG') ? s.slice(3) : s;
  const idx = SIGNAL_NAMES.indexOf(name);
  if (idx > 0) return idx;

  if (name.startsWith('RTMIN')) {
    const rest = name.slice(5);
    if (rest === '') return SIGRTMIN;
    if (rest[0] !== '+') throw new ValueError(`Invalid signal name: ${s}`);
    const off = safeAtoi(rest);
    if (!off.ok) throw new ValueError(`Invalid signal name: ${s}`, off.code);
    const k = Number(off.value);
    if (k < 0 || k > SIGRTMAX - SIGRTMIN) throw new ValueError(`Signal out of range: ${s}`, 'ERANGE');
    return SIGRTMIN + k;
  }
  if (name.startsWith('RTMAX')) {
    const rest = name.slice(5);
    if (rest === '') return SIGRTMAX;
    if (rest[0] !== '-') throw new ValueError(`Invalid signal name: ${s}`);
    const off = safeAtoi(rest);
    if (!off.ok) throw new ValueError(`Invalid signal name: ${s}`, off.code);
    const k = Number(off.value);
    if (k > 0 || k < SIGRTMIN - SIGRTMAX) throw new ValueError(`Signal out of range: ${s}`, 'ERANGE');
    return SIGRTMAX + k;
  }
  throw new ValueError(`Invalid signal name: ${s}`);
}

/** "SIGTERM", "SIGRTMIN+3" (systemd's signal_to_string() with the SIG prefix); other numbers as digits. */
export function signalName(n: number): string {
  const name = SIGNAL_NAMES[n];
  if (name !== undefined && Number.isInteger(n)) return `SIG${name}`;
  if (Number.isInteger(n) && n >= SIGRTMIN && n <= SIGRTMAX) return `SIGRTMIN+${n - SIGRTMIN}`;
  return String(n);
}

// ---------------------------------------------------------------------------------------------
// Time spans

const USEC_PER_SEC = 1_000_000n;
const USEC_PER_MINUTE = 60n * USEC_PER_SEC;
const USEC_PER_HOUR = 60n * USEC_PER_MINUTE;
const USEC_PER_DAY = 24n * USEC_PER_HOUR;
const USEC_PER_WEEK = 7n * USEC_PER_DAY;
const USEC_PER_MONTH = 2_629_800n * USEC_PER_SEC;
const USEC_PER_YEAR = 31_557_600n * USEC_PER_SEC;

// Order matters: the first suffix that the text starts with wins ("ms" before "m", "min" before "m").
const TIME_UNITS: readonly (readonly [string, bigint])[] = [
  ['seconds', USEC_PER_SEC],
  ['second', USEC_PER_SEC],
  ['sec', USEC_PER_SEC],
  ['s', USEC_PER_SEC],
  ['minutes', USEC_PER_MINUTE],
  ['minute', USEC_PER_MINUTE],
  ['min', USEC_PER_MINUTE],
  ['months', USEC_PER_MONTH],
  ['month', USEC_PER_MONTH],
  ['M', USEC_PER_MONTH],
  ['msec', 1000n],
  ['ms', 1000n],
  ['m', USEC_PER_MINUTE],
  ['hours', USEC_PER_HOUR],
  ['hour', USEC_PER_HOUR],
  ['hr', USEC_PER_HOUR],
  ['h', USEC_PER_HOUR],
  ['days', USEC_PER_DAY],
  ['day', USEC_PER_DAY],
  ['d', USEC_PER_DAY],
  ['weeks', USEC_PER_WEEK],
  ['week', USEC_PER_WEEK],
  ['w', USEC_PER_WEEK],
  ['years', USEC_PER_YEAR],
  ['year', USEC_PER_YEAR],
  ['y', USEC_PER_YEAR],
  ['usec', 1n],
  ['us', 1n],
  ['\u03bcs', 1n], // GREEK SMALL LETTER MU
  ['\u00b5s', 1n], // MICRO SIGN
];

function matchUnit(s: string, at: number): { multiplier: bigint; end: number } | null {
  for (const [suffix, usec] of TIME_UNITS) {
    if (s.startsWith(suffix, at)) return { multiplier: usec, end: at + suffix.length };
  }
  return null;
}

function skipSpan(s: string, at: number, chars: string): number {
  while (at < s.length && chars.includes(s[at]!)) at++;
  return at;
}

const DIGITS = '0123456789';

/**
 * parse_time(): "90", "1min 30s", "500ms", "1.5s", "2h 5", "infinity" → µs. A bare number uses
 * `defaultUnit`. Empty input is an error (as in systemd), negative values are out of range.
 */
export function parseTimespan(s: string, defaultUnit = 's'): bigint {
  const def = TIME_UNITS.find(([suffix]) => suffix === defaultUnit);
  if (!def) throw new TypeError(`unknown time unit ${defaultUnit}`);
  const fail = (code: 'EINVAL' | 'ERANGE' = 'EINVAL'): never => {
    throw new ValueError(`Failed to parse time span: ${s}`, code);
  };

  let p = skipSpan(s, 0, WHITESPACE);
  if (s.startsWith('infinity', p)) {
    if (skipSpan(s, p + 8, WHITESPACE) !== s.length) fail();
    return USEC_INFINITY;
  }

  let total = 0n;
  let something = false;
  for (;;) {
    p = skipSpan(s, p, WHITESPACE);
    if (p >= s.length) {
      if (!something) fail();
      break;
    }
    if (s[p] === '-') fail('ERANGE');

    // strtoll(): optional '+', decimal digits
    let e = p;
    if (s[e] === '+') e++;
    const digitsEnd = skipSpan(s, e, DIGITS);
    let whole = 0n;
    if (digitsEnd === e) e = p; // no conversion: strtoll leaves the end pointer at the start
    else {
      whole = BigInt(s.slice(e, digitsEnd));
      if (whole > 0x7fff_ffff_ffff_ffffn) fail('ERANGE');
      e = digitsEnd;
    }

    if (s[e] === '.') p = skipSpan(s, e + 1, DIGITS);
    else if (e === p) fail();
    else p = e;

    const afterWs = skipSpan(s, p, WHITESPACE);
    const unit = matchUnit(s, afterWs);
    const multiplier = unit ? unit.multiplier : def[1];
    const next = unit ? unit.end : afterWs;
    if (next === p && p < s.length) fail(); // "12.34.56", "5x"
    p = next;

    if (whole >= USEC_INFINITY / multiplier) fail('ERANGE');
    const k = whole * multiplier;
    if (k >= USEC_INFINITY - total) fail('ERANGE');
    total += k;
    something = true;

    if (s[e] === '.') {
      let m = multiplier / 10n;
      let b = e + 1;
      for (; b < s.length && DIGITS.includes(s[b]!); b++, m /= 10n) {
        const part = BigInt(s.charCodeAt(b) - 48) * m;
        if (part >= USEC_INFINITY - total) fail('ERANGE');
        total += part;
      }
      if (b === e + 1) fail(); // "3." "3.sec"
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Exit status sets (SuccessExitStatus=, RestartPreventExitStatus=, RestartForceExitStatus=)

const EXIT_STATUS_NAMES: Readonly<Record<string, number>> = {
  SUCCESS: 0,
  FAILURE: 1,
  INVALIDARGUMENT: 2,
  NOTIMPLEMENTED: 3,
  NOPERMISSION: 4,
  NOTINSTALLED: 5,
  NOTCONFIGURED: 6,
  NOTRUNNING: 7,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  NOUSER: 67,
  NOHOST: 68,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  OSERR: 71,
  OSFILE: 72,
  CANTCREAT: 73,
  IOERR: 74,
  TEMPFAIL: 75,
  PROTOCOL: 76,
  NOPERM: 77,
  CONFIG: 78,
  CHDIR: 200,
  NICE: 201,
  FDS: 202,
  EXEC: 203,
  MEMORY: 204,
  LIMITS: 205,
  OOM_ADJUST: 206,
  SIGNAL_MASK: 207,
  STDIN: 208,
  STDOUT: 209,
  CHROOT: 210,
  IOPRIO: 211,
  TIMERSLACK: 212,
  SECUREBITS: 213,
  SETSCHEDULER: 214,
  CPUAFFINITY: 215,
  GROUP: 216,
  USER: 217,
  CAPABILITIES: 218,
  CGROUP: 219,
  SETSID: 220,
  CONFIRM: 221,
  STDERR: 222,
  PAM: 224,
  NETWORK: 225,
  NAMESPACE: 226,
  NO_NEW_PRIVILEGES: 227,
  SECCOMP: 228,
  SELINUX_CONTEXT: 229,
  PERSONALITY: 230,
  APPARMOR: 231,
  ADDRESS_FAMILIES: 232,
  RUNTIME_DIRECTORY: 233,
  CHOWN: 235,
  SMACK_PROCESS_LABEL: 236,
  KEYRING: 237,
  STATE_DIRECTORY: 238,
  CACHE_DIRECTORY: 239,
  LOGS_DIRECTORY: 240,
  CONFIGURATION_DIRECTORY: 241,
  NUMA_POLICY: 242,
  CREDENTIALS: 243,
  BPF: 244,
  EXCEPTION: 255,
};

/** exit_status_from_string(): a systemd/LSB/BSD name (without EXIT_/EX_) or a number 0..255. */
export function parseExitStatus(s: string): number {
  if (Object.prototype.hasOwnProperty.call(EXIT_STATUS_NAMES, s)) return EXIT_STATUS_NAMES[s]!;
  const r = parseCInteger(s, true, 255n, 0n);
  if (!r.ok) throw new ValueError(`Invalid exit status: ${s}`, r.code);
  return Number(r.value);
}

export interface ExitStatusSetResult {
  set: ExitStatusSet;
  /** words that were ignored, with systemd's message */
  warnings: string[];
}

/**
 * config_parse_set_status(): space-separated exit statuses and signals. Numbers are exit statuses
 * (so "9" is status 9, "SIGKILL"/"KILL" is signal 9). Bad words are skipped with a warning; an
 * empty value gives the empty set (the caller resets).
 */
export function parseExitStatusSet(s: string, key = 'SuccessExitStatus'): ExitStatusSetResult {
  const statuses = new Set<number>();
  const signals = new Set<number>();
  const warnings: string[] = [];
  let pos = 0;
  for (;;) {
    let word: string | null;
    try {
      const r = extractFirstWord(s, pos, {});
      word = r.word;
      pos = r.next;
    } catch (err) {
      if (!(err instanceof ExtractError)) throw err;
      warnings.push(`Failed to parse ${key}=${s}, ignoring: Invalid argument`);
      break;
    }
    if (word === null) break;
    try {
      statuses.add(parseExitStatus(word));
      continue;
    } catch {
      // not an exit status: maybe a signal
    }
    try {
      signals.add(parseSignal(word));
    } catch {
      warnings.push(`Failed to parse value, ignoring: ${word}`);
    }
  }
  const sorted = (x: Set<number>): number[] => [...x].sort((a, b) => a - b);
  return { set: { statuses: sorted(statuses), signals: sorted(signals) }, warnings };
}
