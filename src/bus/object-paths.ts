// Object paths of systemd's D-Bus API and the bus-label escaping that maps unit names onto them.

export const MANAGER_PATH = '/org/freedesktop/systemd1';
export const UNIT_PATH_PREFIX = '/org/freedesktop/systemd1/unit';
export const JOB_PATH_PREFIX = '/org/freedesktop/systemd1/job';

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Letters kept, digits kept except first, every other byte as `_xx`; "" becomes "_". */
export function escapeBusLabel(label: string): string {
  if (label === '') return '_';
  const bytes = Buffer.from(label, 'utf8');
  let out = '';
  bytes.forEach((c, i) => {
    if (isAsciiLetter(c) || (i > 0 && isAsciiDigit(c))) out += String.fromCharCode(c);
    else out += '_' + c.toString(16).padStart(2, '0');
  });
  return out;
}

function hexValue(c: string): number {
  return /^[0-9a-fA-F]$/.test(c) ? parseInt(c, 16) : -1;
}

/** `_xx` becomes that byte; a `_` not followed by two hex digits is literal; "_" alone is "". */
export function unescapeBusLabel(label: string): string {
  if (label === '_') return '';
  const bytes: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const ch = label[i]!;
    if (ch === '_' && hexValue(label[i + 1] ?? '') >= 0 && hexValue(label[i + 2] ?? '') >= 0) {
      bytes.push(hexValue(label[i + 1]!) * 16 + hexValue(label[i + 2]!));
      i += 2;
    } else {
      for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function unitPath(unitId: string): string {
  return `${UNIT_PATH_PREFIX}/${escapeBusLabel(unitId)}`;
}

export function jobPath(jobId: number): string {
  return `${JOB_PATH_PREFIX}/${jobId}`;
}

/** The unescaped last component of a unit object path, or null when the path is not a unit path. */
export function unitLabelFromPath(path: string): string | null {
  const prefix = UNIT_PATH_PREFIX + '/';
  if (!path.startsWith(prefix)) return null;
  const rest = path.slice(prefix.length);
  if (rest === '' || rest.includes('/')) return null;
  return unescapeBusLabel(rest);
}

/** The job id of a job object path, or null. */
export function jobIdFromPath(path: string): number | null {
  const prefix = JOB_PATH_PREFIX + '/';
  if (!path.startsWith(prefix)) return null;
  const rest = path.slice(prefix.length);
  if (!/^[0-9]+$/.test(rest)) return null;
  const id = Number(rest);
  return id > 0 && id <= 0xffffffff ? id : null;
}
