// Unit files for the bench, written to a temp dir that both unitd and systemd load.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** a token in every bench unit's environment: survivors are found by it in /proc/PID/environ */
export const TOKEN = `unitd-bench-${process.pid}`;

// Every bench unit sets its locale itself, so that both managers run the same processes: unitd
// passes its own LANG on to services, while the oracle's user manager passes what its environment
// holds (LANG=C.UTF-8 with LC_ALL=C, which wins). A program whose locale is C.UTF-8 maps the
// locale's files, and that is measurable when it dies: 1000 `sleep`s cost 54 ms of CPU to kill
// in the C locale and 72 ms in C.UTF-8 here (cpu.stat of their cgroup), 34 vs 44 ms of wall time.
// C.UTF-8 is what a Debian system service gets from systemd (its default locale). The kernel floor
// (floor.ts) starts its processes with the same environment.
const LOCALE_VARS = { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
const LOCALE = Object.entries(LOCALE_VARS).map(([k, v]) => `${k}=${v}`).join(' ');
export const BENCH_ENVIRONMENT: Record<string, string> = { UNITD_BENCH: TOKEN, ...LOCALE_VARS };
const ENVIRONMENT = `Environment=UNITD_BENCH=${TOKEN} ${LOCALE}\n`;

/** the shell command of a stop unit: n processes in all, n-1 sleeps in the background and the shell exec'ing the last one */
export const stopCommand = (n: number): string =>
  `i=1; while [ $i -lt ${n} ]; do sleep 100000 & i=$((i+1)); done; exec sleep 100000`;

export const stopUnit = (n: number): string => `bench-stop-${n}.service`;
export const KILL_UNIT = 'bench-kill.service';
export const STUBBORN_UNIT = 'bench-stubborn.service';
export const BOMB_UNIT = 'bench-bomb.service';

// every process forks then hops to a new PID every 2-4 s (parent exits), so a PID list
// read before killing is stale; population stays at N. TERM is not caught (default action).
const BOMB_PY = `
import os, sys, time, signal, random
n = int(sys.argv[1])
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
main = True
for i in range(n - 1):
    if os.fork() == 0:
        main = False
        break
if main:
    while True:
        signal.pause()
random.seed(os.getpid())
while True:
    time.sleep(2 + 2 * random.random())
    if os.fork() != 0:
        os._exit(0)
`;

export function writeBenchUnits(sizes: number[], bombSize: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'unitd-bench-units-'));
  for (const n of sizes) {
    // ($$ is a literal $ in ExecStart=)
    writeFileSync(
      join(dir, stopUnit(n)),
      `[Unit]\nDescription=bench: ${n} processes that die on SIGTERM\n\n[Service]\nType=simple\n` +
        `ExecStart=/bin/sh -c '${stopCommand(n).replaceAll('$', '$$$$')}'\n` +
        `${ENVIRONMENT}TimeoutStopSec=30\n`,
    );
  }
  writeFileSync(join(dir, KILL_UNIT), `[Unit]\nDescription=bench: one process for KillUnit\n\n[Service]\nExecStart=/bin/sleep 100000\n${ENVIRONMENT}`);
  writeFileSync(
    join(dir, STUBBORN_UNIT),
    `[Unit]\nDescription=bench: ignores SIGTERM\n\n[Service]\nExecStart=/bin/sh -c "trap '' TERM; exec sleep 100000"\n${ENVIRONMENT}TimeoutStopSec=1\n`,
  );
  writeFileSync(join(dir, 'bench-bomb.py'), BOMB_PY);
  writeFileSync(
    join(dir, BOMB_UNIT),
    `[Unit]\nDescription=bench: bounded fork bomb\n\n[Service]\nExecStart=/usr/bin/python3 ${join(dir, 'bench-bomb.py')} ${bombSize}\n${ENVIRONMENT}TimeoutStopSec=10\n`,
  );
  return dir;
}

// Scenario 7: large unit files (issue 13, item 6). Each repetition loads its own copy, as a loaded
// unit stays loaded. The names of the specifier units are 10 bytes ("pN.service"): 100k `%n` expand
// to 1,000,000 bytes, under unit_full_printf()'s LONG_LINE_MAX (1 MiB), so both managers expand
// them all.
export const parseLinesUnit = (rep: number): string => `bench-lines-${rep}.service`;
export const parseSpecifiersUnit = (rep: number): string => `p${rep}.service`;
export const parseMaxUnit = 'bench-max.service';

/** Writes the scenario-7 unit files into `dir` (the bench's unit directory); returns their sizes in bytes. */
export function writeParseUnits(dir: string, lines: number, specifiers: number, reps: number, maxBytes: number | null): Record<string, number> {
  if (reps > 10) throw new Error('at most 10 repetitions: the specifier units are named p0..p9');
  const sizes: Record<string, number> = {};
  const write = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    sizes[name] = Buffer.byteLength(text);
  };
  const env = Array.from({ length: lines }, (_, i) => `Environment=V${i}=${i}`).join('\n');
  for (let rep = 0; rep < reps; rep++) {
    write(parseLinesUnit(rep), `[Unit]\nDescription=bench: ${lines} Environment= lines\n[Service]\nExecStart=/bin/true\n${env}\n`);
    write(parseSpecifiersUnit(rep), `[Unit]\nDescription=${'%n'.repeat(specifiers)}\n[Service]\nExecStart=/bin/true\n`);
  }
  if (maxBytes !== null) {
    // the largest file unitd reads (READ_FULL_BYTES_MAX): After= lines naming 100k units over and over
    const line = (i: number): string => `After=u${i % 100_000}.service`.padEnd(23);
    const head = '[Service]\nExecStart=/bin/true\n[Unit]\n';
    const n = Math.floor((maxBytes - head.length) / 24);
    write(parseMaxUnit, head + Array.from({ length: n }, (_, i) => line(i)).join('\n') + '\n');
  }
  return sizes;
}

export const MANY_TARGET = 'bench-many.target';

/**
 * N enabled services (symlinked into multi-user.target.wants/), which unitd loads at start-up.
 * They are oneshot + RemainAfterExit services running /bin/true, also wanted by bench-many.target:
 * systemd --user (whose default target here is the oracle's idle target) gets the same 1000 units
 * loaded by starting that target, and they stay loaded (active, exited) for the comparison.
 */
export function writeManyUnits(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'unitd-bench-many-'));
  const wants = join(dir, 'multi-user.target.wants');
  const manyWants = join(dir, `${MANY_TARGET}.wants`);
  mkdirSync(wants);
  mkdirSync(manyWants);
  writeFileSync(join(dir, 'multi-user.target'), '[Unit]\nDescription=Multi-User System (bench)\n');
  writeFileSync(join(dir, MANY_TARGET), '[Unit]\nDescription=bench: pulls in the many units\n');
  for (let i = 0; i < n; i++) {
    const name = `many-${String(i).padStart(4, '0')}.service`;
    writeFileSync(
      join(dir, name),
      `[Unit]\nDescription=bench unit ${i}\nAfter=network.target\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n` +
        `Environment=N=${i} ${LOCALE}\nKillMode=control-group\nTimeoutStopSec=5\n\n[Install]\nWantedBy=multi-user.target\n`,
    );
    symlinkSync(join(dir, name), join(wants, name));
    symlinkSync(join(dir, name), join(manyWants, name));
  }
  return dir;
}

/** processes whose environment carries the token (anywhere on the machine) */
export function survivors(): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'latin1').includes(TOKEN)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out.filter((p) => p !== process.pid);
}
