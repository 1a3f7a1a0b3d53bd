// /proc/PID/stat parsing and process identities.

import fs from 'node:fs';
import type { ProcessIdentity } from './types.js';

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z, T, t, X, I… */
  state: string;
  ppid: number;
  /** field 9, PF_* flags */
  flags: number;
  /** field 22, clock ticks since boot */
  startTime: bigint;
}

export const PF_KTHREAD = 0x00200000;

export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')'); // comm may itself contain ')' and spaces
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3]
  if (rest.length < 20) return null;
  return {
    pid: Number(text.slice(0, open - 1)),
    comm: text.slice(open + 1, close),
    state: rest[0]!,
    ppid: Number(rest[1]),
    flags: Number(rest[6]),
    startTime: BigInt(rest[19]!),
  };
}

export function readStat(pid: number | 'self'): ProcStat | null {
  try {
    // 'utf8' takes node's one-call fast path (half the cost of 'latin1'); only comm can hold
    // non-ASCII bytes, and the fields are found from the last ')', which decoding cannot forge
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** the identity of a live (or zombie) process, null when there is no such PID */
export function identify(pid: number): ProcessIdentity | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const st = readStat(pid);
  return st ? { pid, startTime: st.startTime } : null;
}

/** an identity as a map key ("pid:starttime") */
export function identityKey(id: ProcessIdentity): string {
  return `${id.pid}:${id.startTime}`;
}

export function sameIdentity(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.startTime === b.startTime;
}

/** the PIDs that are direct children of this process (any of its threads) */
export function ownChildren(): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const p of text.split(' ')) if (p.trim()) out.push(Number(p));
  }
  return out;
}
