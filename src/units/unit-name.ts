// Unit name facts, following systemd 252's src/basic/unit-name.c.

export const UNIT_TYPES = [
  'service',
  'mount',
  'swap',
  'socket',
  'target',
  'device',
  'automount',
  'timer',
  'path',
  'slice',
  'scope',
] as const;

export type UnitType = (typeof UNIT_TYPES)[number];

/** UNIT_NAME_MAX counts the trailing NUL: valid names are at most 255 bytes long. */
export const UNIT_NAME_MAX = 256;

const VALID_CHARS = /^[0-9A-Za-z:\-_.\\]*$/;
const VALID_CHARS_WITH_AT = /^[0-9A-Za-z:\-_.\\@]*$/;

export interface UnitNameKinds {
  plain?: boolean;
  instance?: boolean;
  template?: boolean;
}

const ANY: UnitNameKinds = { plain: true, instance: true, template: true };

/**
 * unit_name_is_valid(): "<prefix>[@[<instance>]].<type>". The prefix may not be empty and may not
 * hold '@'; the instance may (everything after the first '@' up to the last '.').
 */
export function isValidUnitName(name: string, kinds: UnitNameKinds = ANY): boolean {
  if (name === '') return false;
  if (Buffer.byteLength(name, 'utf8') >= UNIT_NAME_MAX) return false;
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return false;
  if (!(UNIT_TYPES as readonly string[]).includes(name.slice(dot + 1))) return false;
  const body = name.slice(0, dot);
  if (!VALID_CHARS_WITH_AT.test(body)) return false;
  const at = body.indexOf('@');
  if (at === 0) return false;
  if (at < 0) return kinds.plain === true;
  if (at + 1 < dot) return kinds.instance === true;
  return kinds.template === true;
}

export function unitType(name: string): UnitType | null {
  if (!isValidUnitName(name)) return null;
  return name.slice(name.lastIndexOf('.') + 1) as UnitType;
}

export function isTemplate(name: string): boolean {
  return isValidUnitName(name, { template: true });
}

export function isInstance(name: string): boolean {
  return isValidUnitName(name, { instance: true });
}

function assertValid(name: string): void {
  if (!isValidUnitName(name)) throw new Error(`Invalid unit name: ${name}`);
}

/** "foo@bar.service" → "foo@.service"; null when the name is not a template or instance. */
export function templateOf(name: string): string | null {
  if (!isValidUnitName(name, { instance: true, template: true })) return null;
  return name.slice(0, name.indexOf('@') + 1) + name.slice(name.lastIndexOf('.'));
}

/** The instance ("" for a template), or null for a plain name. Throws on an invalid name. */
export function instanceOf(name: string): string | null {
  assertValid(name);
  const at = name.indexOf('@');
  if (at < 0) return null;
  return name.slice(at + 1, name.lastIndexOf('.'));
}

/** "foo@bar.service" → "foo" (%p). Throws on an invalid name. */
export function prefixOf(name: string): string {
  assertValid(name);
  const at = name.indexOf('@');
  return name.slice(0, at >= 0 ? at : name.lastIndexOf('.'));
}

/** "foo@bar.service" → "foo@bar" (%N). Throws on an invalid name. */
export function prefixAndInstanceOf(name: string): string {
  assertValid(name);
  return name.slice(0, name.lastIndexOf('.'));
}

/** unit_name_replace_instance(): "foo@.service" + "bar" → "foo@bar.service". */
export function replaceInstance(name: string, instance: string): string {
  if (!isValidUnitName(name, { instance: true, template: true })) {
    throw new Error(`Not a template or instance: ${name}`);
  }
  if (instance === '' || !VALID_CHARS_WITH_AT.test(instance)) throw new Error(`Invalid instance: ${instance}`);
  const result = name.slice(0, name.indexOf('@') + 1) + instance + name.slice(name.lastIndexOf('.'));
  if (!isValidUnitName(result, { instance: true })) throw new Error(`Invalid unit name: ${result}`);
  return result;
}

/**
 * unit_name_unescape(): "-" → "/", "\xNN" → that byte; any other backslash is an error.
 * Bytes are decoded as UTF-8.
 */
export function unescapeUnitNamePart(s: string): string {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '-') out.push(0x2f);
    else if (c === '\\') {
      const hex = s.slice(i + 2, i + 4);
      if (s[i + 1] !== 'x' || !/^[0-9a-fA-F]{2}$/.test(hex)) {
        throw new Error(`Invalid escape in unit name part: ${s}`);
      }
      out.push(parseInt(hex, 16));
      i += 3;
    } else out.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(out).toString('utf8');
}

const ESCAPE_KEEP = /^[0-9A-Za-z:_.]$/;

/** unit_name_escape(): "/" → "-", a leading "." and anything not allowed → "\xNN" per byte. */
export function escapeUnitNamePart(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const ch = String.fromCharCode(b);
    if (i === 0 && ch === '.') out += '\\x2e';
    else if (ch === '/') out += '-';
    else if (b < 0x80 && ESCAPE_KEEP.test(ch)) out += ch;
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** path_is_normalized(): no "." or ".." components, no "//", components of at most 255 bytes. */
export function pathIsNormalized(p: string): boolean {
  if (p === '' || Buffer.byteLength(p, 'utf8') >= 4096) return false;
  if (p === '.' || p.startsWith('./') || p.endsWith('/.') || p.includes('/./')) return false;
  if (p.includes('//')) return false;
  for (const comp of p.split('/')) {
    if (comp === '..') return false;
    if (Buffer.byteLength(comp, 'utf8') > 255) return false;
  }
  return true;
}

/**
 * unit_name_path_unescape() (%f, %I-as-path): "-" alone is "/", otherwise unescape, refuse a
 * leading or trailing "/" and prefix one. Throws when the result is not a normalized path.
 */
export function unescapeUnitNamePath(s: string): string {
  if (s === '') throw new Error('Empty path in unit name');
  if (s === '-') return '/';
  const w = unescapeUnitNamePart(s);
  if (w.startsWith('/') || w.endsWith('/')) throw new Error(`Not a valid path escape: ${s}`);
  const p = `/${w}`;
  if (!pathIsNormalized(p)) throw new Error(`Not a normalized path: ${p}`);
  return p;
}

/** unit_name_path_escape(): "/" → "-", "/foo/bar/" → "foo-bar". */
export function escapeUnitNamePath(p: string): string {
  const simplified = p.replace(/\/+/g, '/').replace(/(^|\/)\.(?=\/|$)/g, '$1').replace(/\/+/g, '/');
  if (simplified === '' || /^\/*$/.test(simplified)) return '-';
  const trimmed = simplified.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!pathIsNormalized(trimmed)) throw new Error(`Not a normalized path: ${p}`);
  return escapeUnitNamePart(trimmed);
}

/** unit_name_to_path(): the prefix ("dev-sda.device" → "/dev/sda") unescaped as a path. */
export function unitNameToPath(name: string): string {
  return unescapeUnitNamePath(prefixOf(name));
}
