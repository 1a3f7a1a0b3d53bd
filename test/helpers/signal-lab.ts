// Shared pieces of the kill/stop tests: the signal-recording process (test/fixtures/signals/
// sigrec.py), reading what it recorded, and one "target" interface over unitd (private bus, real
// systemctl 252 through the namespace recipe) and the oracle (real systemd 252 --user), so each
// test runs the same units on both and compares.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busctl, systemctl, type Result } from './clients.js';
import type { UnitdProcess } from './unitd-process.js';
import { REPO_ROOT } from './unitd-process.js';
import type { Oracle } from '../oracle/oracle.js';

export const SIGREC = `${REPO_ROOT}test/fixtures/signals/sigrec.py`;
export const PYTHON = '/usr/bin/python3';

export interface SigRecord {
  ev: 'start' | 'sig';
  name: string;
  pid: number;
  ppid?: number;
  sid?: number;
  sig?: string;
  code?: number;
  sender?: number;
  value?: number;
  t: number;
}

export function readRecords(file: string): SigRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SigRecord);
}

/** name → PID of the latest start record */
export function pidsOf(records: SigRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) if (r.ev === 'start') out[r.name] = r.pid;
  return out;
}

/** name → sorted set of signal names received (SIGCHLD left out), for the latest PID of each name */
export function signalSets(records: SigRecord[], since = 0): Record<string, string[]> {
  const pids = pidsOf(records);
  const out: Record<string, Set<string>> = {};
  for (const name of Object.keys(pids)) out[name] = new Set();
  for (const r of records) {
    if (r.ev !== 'sig' || r.t < since || r.sig === 'CHLD' || pids[r.name] !== r.pid) continue;
    out[r.name]!.add(r.sig!);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** waits until the log has a start record for every name (after `since`) */
export async function waitForStarts(file: string, names: string[], since = 0, timeoutMs = 10_000): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const recs = readRecords(file).filter((r) => r.t >= since);
    const pids = pidsOf(recs);
    if (names.every((n) => pids[n] !== undefined)) return pids;
    if (Date.now() > deadline) throw new Error(`recorder ${file}: no start of ${names.filter((n) => pids[n] === undefined).join(', ')}; have ${JSON.stringify(recs)}`);
    await sleep(20);
  }
}

/** a live process that is not a zombie */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function killPids(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A shell script that appends its arguments, '|'-separated, as one line to the file given first. */
export function writeArgRecorder(dir: string): string {
  const path = join(dir, 'argrec.sh');
  writeFileSync(path, '#!/bin/sh\nf="$1"; shift\nprintf \'%s|\' "$@" >>"$f"\necho >>"$f"\n');
  chmodSync(path, 0o755);
  return path;
}

/** unitd or the oracle, driven the same way */
export interface Target {
  kind: 'unitd' | 'oracle';
  /** directory of this target's unit files and recorder logs */
  dir: string;
  systemctl(args: string[]): Promise<Result>;
  busctl(args: string[]): Promise<Result>;
  /** SubStates the unit went through (each change), from the log position `mark` on */
  subStates(unit: string, mark: number): string[];
  /** current log position */
  mark(): number;
  /** a property of the unit (systemctl show -p X --value) */
  prop(unit: string, name: string): Promise<string>;
}

export function unitdTarget(unitd: UnitdProcess, address: string, dir: string): Target {
  return {
    kind: 'unitd',
    dir,
    systemctl: (args) => systemctl(address, args),
    busctl: (args) => busctl(address, args),
    mark: () => unitd.logs.length,
    subStates: (unit, mark) =>
      unitd.logs
        .slice(mark)
        .filter((l) => l.msg === 'unit state changed' && l.unit === unit)
        .map((l) => String(l.subState)),
    prop: async (unit, name) => (await systemctl(address, ['show', '-p', name, '--value', unit])).stdout.trim(),
  };
}

/** the oracle's log must be at debug level for the "Changed A -> B" lines */
export function oracleTarget(o: Oracle, dir: string): Target {
  const logFile = join(o.tmpDir, 'systemd.log');
  const lines = (): string[] => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n') : []);
  return {
    kind: 'oracle',
    dir,
    systemctl: (args) => o.systemctl(args),
    busctl: (args) => o.busctl(args),
    mark: () => lines().length,
    subStates: (unit, mark) => {
      const out: string[] = [];
      const re = new RegExp(`${unit.replace(/[.]/g, '\\.')}: Changed (\\S+) -> (\\S+)`);
      for (const l of lines().slice(mark)) {
        const m = re.exec(l.trim());
        if (m) out.push(m[2]!);
      }
      return out;
    },
    prop: async (unit, name) => (await o.systemctl(['show', '-p', name, '--value', unit])).stdout.trim(),
  };
}

/** writes unit files into dir (created if needed); `text` gets the dir to put its logs in */
export function writeUnits(dir: string, units: Record<string, (dir: string) => string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(units)) writeFileSync(join(dir, name), text(dir));
}

/** SIGKILLs the recorder processes of a log that are still alive (checked by their command line). */
export function killRecorded(file: string): number[] {
  const killed: number[] = [];
  for (const pid of Object.values(pidsOf(readRecords(file)))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmd.includes('sigrec.py') || !isAlive(pid)) continue;
    killPids([pid]);
    killed.push(pid);
  }
  return killed;
}
