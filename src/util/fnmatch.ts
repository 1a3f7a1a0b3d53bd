// fnmatch(3) without flags, as systemd uses it for unit patterns: *, ?, [...] with ranges and [!...].
// A backslash quotes the next character.

function classMatches(pattern: string, start: number, ch: string): [boolean, number] | null {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === '!' || pattern[i] === '^') {
    negate = true;
    i++;
  }
  let matched = false;
  let first = true;
  while (i < pattern.length && (pattern[i] !== ']' || first)) {
    first = false;
    let lo = pattern[i]!;
    if (lo === '\\' && i + 1 < pattern.length) lo = pattern[++i]!;
    if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
      const hi = pattern[i + 2]!;
      if (ch >= lo && ch <= hi) matched = true;
      i += 3;
    } else {
      if (ch === lo) matched = true;
      i++;
    }
  }
  if (i >= pattern.length) return null; // no closing bracket: '[' is literal
  return [matched !== negate, i + 1];
}

export function fnmatch(pattern: string, text: string): boolean {
  const match = (p: number, t: number): boolean => {
    while (p < pattern.length) {
      const c = pattern[p]!;
      if (c === '*') {
        while (pattern[p] === '*') p++;
        if (p === pattern.length) return true;
        for (let k = t; k <= text.length; k++) if (match(p, k)) return true;
        return false;
      }
      if (t >= text.length) return false;
      if (c === '?') {
        p++;
        t++;
        continue;
      }
      if (c === '[') {
        const r = classMatches(pattern, p, text[t]!);
        if (r) {
          if (!r[0]) return false;
          p = r[1];
          t++;
          continue;
        }
      }
      let lit = c;
      if (c === '\\' && p + 1 < pattern.length) lit = pattern[++p]!;
      if (lit !== text[t]) return false;
      p++;
      t++;
    }
    return t === text.length;
  };
  return match(0, 0);
}
