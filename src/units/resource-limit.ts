// Values of the Limit*= settings that count things (LimitNOFILE=): "N" (soft and hard), "SOFT:HARD",
// either side "infinity" or a number in C integer syntax (safe_atou64, values.ts).
import { safeAtou64 } from './values.js';

/** RLIM_INFINITY, also how D-Bus shows it (UINT64_MAX) */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

export interface ResourceLimit {
  soft: bigint;
  hard: bigint;
}

/** a count, or "infinity" (RLIM_INFINITY itself cannot be written as a number: ERANGE) */
function parseCount(s: string): bigint | undefined {
  return s === 'infinity' ? RLIM_INFINITY : safeAtou64(s, RLIM_INFINITY - 1n);
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
