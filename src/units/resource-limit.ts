// Values of the Limit*= settings that count things (LimitNOFILE=): "N" (soft and hard), "SOFT:HARD",
// either side "infinity". Numbers as systemd reads them: leading blanks and a "+" allowed, C's
// "0x"/"0" prefixes (hex, octal) and "0b"/"0o" (binary, octal); infinity itself cannot be written
// as a number.

/** RLIM_INFINITY, also how D-Bus shows it (UINT64_MAX) */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

export interface ResourceLimit {
  soft: bigint;
  hard: bigint;
}

function parseCount(s: string): bigint | undefined {
  if (s === 'infinity') return RLIM_INFINITY;
  let t = s.replace(/^[ \t\n\r]+/, '');
  // "0b"/"0o" are recognized on the bare number only; a sign goes straight to strtoull
  const signed = t[0] === '+' || t[0] === '-';
  const negative = t[0] === '-';
  if (signed) t = t.slice(1);
  let digits: string;
  let radix: number;
  const prefix = t.slice(0, 2).toLowerCase();
  if (prefix === '0b' || prefix === '0o') {
    if (signed) return undefined;
    [digits, radix] = [t.slice(2), prefix === '0b' ? 2 : 8];
  } else if (prefix === '0x') [digits, radix] = [t.slice(2), 16];
  else if (t.length > 1 && t[0] === '0') [digits, radix] = [t.slice(1), 8];
  else [digits, radix] = [t, 10];
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[radix]!;
  if (!valid.test(digits)) return undefined;
  const prefixText = { 2: '0b', 8: '0o', 10: '', 16: '0x' }[radix]!;
  const v = BigInt(prefixText + digits);
  if (negative && v !== 0n) return undefined;
  if (v >= RLIM_INFINITY) return undefined;
  return v;
}

/** undefined: not a value; 'soft-above-hard': both parse, but the soft limit is the higher */
export function parseResourceLimit(value: string): ResourceLimit | 'soft-above-hard' | undefined {
  const parts = value.split(':');
  if (parts.length > 2) return undefined;
  const soft = parseCount(parts[0]!);
  if (soft === undefined) return undefined;
  if (parts.length === 1) return { soft, hard: soft };
  const hard = parseCount(parts[1]!);
  if (hard === undefined) return undefined;
  if (soft > hard) return 'soft-above-hard';
  return { soft, hard };
}
