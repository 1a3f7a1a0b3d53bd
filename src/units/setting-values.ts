// Thin adapters over values.ts for the settings table: a bad value becomes `undefined` (the
// setting then warns and keeps its previous value) instead of an exception.
import type { ExitStatusSet } from './types.js';
import { parseBoolean, parseExitStatusSet, parseSignal, parseTimespan, splitWords, ValueError } from './values.js';

function orUndefined<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ValueError) return undefined;
    throw err;
  }
}

export function parseBooleanValue(s: string): boolean | undefined {
  return orUndefined(() => parseBoolean(s));
}

export function parseSignalValue(s: string): number | undefined {
  return orUndefined(() => parseSignal(s));
}

/** µs; a bare number is seconds */
export function parseTimeValue(s: string): bigint | undefined {
  return orUndefined(() => parseTimespan(s, 's'));
}

export function parseExitStatusValue(s: string, warn: (message: string) => void): ExitStatusSet {
  const r = parseExitStatusSet(s);
  for (const w of r.warnings) warn(w);
  return r.set;
}

/** Space-separated words with quotes and C escapes; throws ExtractError on bad quoting. */
export function splitValueWords(s: string, warn: (message: string) => void): string[] {
  return splitWords(s, { unquote: true, cunescape: true }, warn);
}
