// Descriptors unitd was given by whoever started it, open and not close-on-exec, would be passed on
// to every process unitd starts (Node opens its own descriptors close-on-exec, but spawn does not
// close the rest). systemd gives a service its standard streams and the descriptors it passes on
// purpose, nothing else. So at start-up unitd marks every inherited descriptor above 2 close-on-exec:
// it keeps them for itself, its children never see them.
import { readFileSync, readdirSync } from 'node:fs';
import { getNative, type Native } from './native.js';

const O_CLOEXEC = 0o2000000;

/** descriptors above 2 of this process that an exec would pass on (no O_CLOEXEC in fdinfo's flags) */
export function inheritableFds(): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fdinfo');
  } catch {
    return out;
  }
  for (const e of entries) {
    const fd = Number(e);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile (the directory's own descriptor, for one)
    }
    const flags = /^flags:\s*([0-7]+)/m.exec(info);
    if (flags && (parseInt(flags[1]!, 8) & O_CLOEXEC) === 0) out.push(fd);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Marks the inheritable descriptors close-on-exec. Returns those marked and those left as they were
 * (no native calls here, or fcntl failed): the caller says so in its log.
 */
export function stopFdInheritance(native: Native | null = getNative()): { marked: number[]; left: number[] } {
  const marked: number[] = [];
  const left: number[] = [];
  for (const fd of inheritableFds()) {
    try {
      if (!native) throw new Error('no native calls');
      native.setCloseOnExec(fd);
      marked.push(fd);
    } catch {
      left.push(fd);
    }
  }
  return { marked, left };
}
