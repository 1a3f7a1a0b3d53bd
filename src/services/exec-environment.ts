// The environment and argument vector of a command a unit runs: systemd's base environment,
// Environment=/EnvironmentFile=, $MAINPID and the $SERVICE_RESULT family, and $VAR expansion in
// Exec lines (a whole-word $VAR splits into words and vanishes when unset; ${VAR} is replaced in
// place; $VAR inside a word is left alone, as systemd 252 does).
import { FileReadError, readBoundedFile, readFailureReason } from '../util/bounded-read.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Parses an EnvironmentFile=: KEY=VALUE lines, # and ; comments, quotes, backslash continuation. */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\\\n/g, '').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    if ((value.startsWith('"') && value.endsWith('"') && value.length >= 2) || (value.startsWith("'") && value.endsWith("'") && value.length >= 2)) {
      const quote = value[0];
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["\\`$])/g, '$1');
    }
    out[m[1]!] = value;
  }
  return out;
}

/**
 * Environment= entries into a map. The store keeps one "NAME=value" per assignment, quotes already
 * removed ("B=two words" stays one value); a later assignment of a name wins.
 */
export function environmentAssignments(entries: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

/** /dev/null's device number (1:3, fixed by the kernel), as fs.Stats.rdev encodes it */
const DEV_NULL_RDEV = (1 << 8) | 3;

/**
 * Reads EnvironmentFile= entries; a leading "-" means the file may be missing or unreadable (252's
 * exec_context_load_environment() skips any error then). Throws otherwise, and the start fails
 * with Result=resources as in 252 ("Failed to load environment files: %m").
 *
 * 252 reads the files in the manager with read_full_stream() (load_env_file()), so a FIFO would
 * block it for good and a device be read up to READ_FULL_BYTES_MAX (E2BIG). unitd reads only a
 * regular file of at most READ_FULL_BYTES_MAX (readBoundedFile) and refuses anything else at once;
 * /dev/null reads as empty, as it does in 252.
 */
export function environmentFiles(files: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of files) {
    const optional = spec.startsWith('-');
    const path = optional ? spec.slice(1) : spec;
    let text: string;
    try {
      const read = readBoundedFile(path);
      if (read.kind === 'regular') text = read.data.toString('utf8');
      else if (read.rdev === DEV_NULL_RDEV) text = '';
      else throw new FileReadError('EBADFD', 'a character device, not a regular file', path);
    } catch (err) {
      if (optional) continue;
      throw new Error(`Failed to load environment file ${path}: ${readFailureReason(err)}`);
    }
    Object.assign(out, parseEnvironmentFile(text));
  }
  return out;
}

const WHOLE_WORD = /^\$([A-Za-z_][A-Za-z0-9_]*)$|^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Expands $VAR/${VAR} in every word of an argument vector (the executable's path is not touched). */
export function expandArgv(argv: string[], env: Record<string, string>): string[] {
  const out: string[] = [];
  for (const word of argv) {
    const whole = WHOLE_WORD.exec(word);
    if (whole && whole[1]) {
      const value = env[whole[1]];
      // word by word: a variable from an EnvironmentFile= may hold more words than a spread takes
      if (value !== undefined) for (const w of value.split(/[ \t\n]+/)) if (w !== '') out.push(w);
      continue;
    }
    out.push(word.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string | undefined) => (m === '$$' ? '$' : (env[name!] ?? ''))));
  }
  return out;
}
