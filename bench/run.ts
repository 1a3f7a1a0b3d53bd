// unitd's bench: `npm run bench` (small sizes, CI smoke) or `npm run bench -- --full`.
// Options: --full, --no-systemd (skip the real-systemd baseline), --profile (unitd under
// node --cpu-prof; the profile lands in bench/results/*.cpuprofile), --only=1,2,... (scenarios),
// --unitd-log-level=LEVEL (default info, unitd's default; systemd runs at its default, info),
// --ab=PATH/dist/cli/main.js (a second unitd build, 'unitd-b', measured in the same run: scenarios 1-4).
// Every figure is a median with a baseline from the same run; see bench/README.md.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { FULL, SMALL, escalation, forkBomb, killVsPing, manyUnits, openSession, parseLoad, stopCurve, throughput, type Row, type Session, type StopCurve } from './lib/scenarios.js';
import { REPO_ROOT, benchUnavailable, startSystemdTarget, startUnitdTarget, systemdAvailable, type SystemdTarget, type UnitdTarget } from './lib/targets.js';
import { machine, markdownTable, stopCurveSvg } from './lib/report.js';
import { writeBenchUnits, writeParseUnits } from './lib/units.js';
import { READ_FULL_BYTES_MAX } from '../src/util/bounded-read.js';
import { now } from './lib/stats.js';
import { reaper } from '../src/processes/reaper.js';

const argv = process.argv.slice(2);
const full = argv.includes('--full');
const withSystemd = !argv.includes('--no-systemd');
const profile = argv.includes('--profile');
const onlyArg = argv.find((a) => a.startsWith('--only='));
const abMain = argv.find((a) => a.startsWith('--ab='))?.slice(5);
const unitdLogLevel = argv.find((a) => a.startsWith('--unitd-log-level='))?.slice(18) ?? 'info';
const only = onlyArg ? new Set(onlyArg.slice(7).split(',')) : null;
const want = (n: string): boolean => !only || only.has(n);
const sizes = full ? FULL : SMALL;
const resultsDir = join(REPO_ROOT, 'bench/results');
const log = (s: string): void => void process.stderr.write(`[bench] ${s}\n`);

/** the last 5000 lines of unitd's log (a full run logs a line per KillUnit: 200k lines) */
function logTail(text: string): string {
  return text.split('\n').slice(-5001).join('\n');
}

async function main(): Promise<void> {
  const cannot = benchUnavailable();
  if (cannot) {
    // CI checks that the bench runs; a machine that cannot host it says why and is not a failure
    process.stdout.write(`bench skipped: ${cannot}\n`);
    return;
  }
  // The bench is a child subreaper with unitd's own reaper for its whole run: the kernel floor of
  // scenario 2 (lib/floor.ts) starts processes itself, and their orphans are reaped here.
  reaper.acquire();
  const started = now();
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const date = new Date().toISOString();
  const rows: Row[] = [];
  let curve: StopCurve | null = null;
  const unitDir = writeBenchUnits(sizes.stopSizes, sizes.bombSize);
  const parseFileBytes = want('7') ? writeParseUnits(unitDir, sizes.parseLines, sizes.parseSpecifiers, sizes.parseReps, sizes.parseMax ? READ_FULL_BYTES_MAX : null) : {};
  let unitd: UnitdTarget | null = null;
  let systemd: SystemdTarget | null = null;
  let unitdB: UnitdTarget | null = null;
  const sessions: Session[] = [];
  let systemdNote = '';
  const cleanup = async (): Promise<void> => {
    for (const s of sessions) s.client.disconnect();
    sessions.length = 0;
    await unitd?.stop();
    if (unitd) {
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(join(resultsDir, 'unitd.log'), logTail(unitd.readLog()));
    }
    await unitdB?.stop();
    await systemd?.stop();
    rmSync(unitDir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  }
  try {
    const profDir = resultsDir; // *.cpuprofile there is git-ignored
    if (profile) mkdirSync(profDir, { recursive: true });
    unitd = await startUnitdTarget({ unitDirs: [unitDir], cpuProfDir: profile ? profDir : undefined, logLevel: unitdLogLevel });
    sessions.push(await openSession(unitd));
    if (abMain) {
      unitdB = await startUnitdTarget({ unitDirs: [unitDir], logLevel: unitdLogLevel, main: abMain, name: 'unitd-b' });
      sessions.push(await openSession(unitdB));
    }
    const avail = systemdAvailable();
    if (withSystemd && avail.ok) {
      systemd = await startSystemdTarget({ unitDirs: [unitDir] });
      sessions.push(await openSession(systemd));
    } else {
      systemdNote = withSystemd ? `systemd baseline skipped: ${avail.reason}` : 'systemd baseline skipped (--no-systemd)';
      log(systemdNote);
    }
    log(`unitd pid ${unitd.pid}${systemd ? `, systemd --user pid ${systemd.pid}` : ''}; ${full ? 'full' : 'small'} sizes`);
    if (want('1')) rows.push(...(await killVsPing(sessions, sizes)));
    if (want('2')) {
      const r = await stopCurve(sessions, sizes);
      rows.push(...r.rows);
      curve = r.curve;
    }
    if (want('3')) rows.push(...(await escalation(sessions, sizes)));
    if (want('4')) rows.push(...(await forkBomb(sessions, sizes)));
    if (want('6')) rows.push(...(await throughput(unitd, sizes)));
    if (want('7')) rows.push(...(await parseLoad(sessions, sizes, parseFileBytes)));
    for (const s of sessions) s.client.disconnect();
    sessions.length = 0;
    await systemd?.stop();
    systemd = null;
    await unitdB?.stop();
    unitdB = null;
    await unitd.stop();
    writeFileSync(join(resultsDir, 'unitd.log'), logTail(unitd.readLog()));
    unitd = null;
    if (want('5')) rows.push(...(await manyUnits(sizes, profile ? resultsDir : undefined, withSystemd)));
  } finally {
    await cleanup();
  }

  const table = markdownTable(rows);
  const m = machine(REPO_ROOT);
  const seconds = (now() - started) / 1000;
  const header = `unitd bench, ${full ? 'full' : 'small'} sizes, ${date} — ${m.cpus} × ${m.cpu}, kernel ${m.kernel}, node ${m.node}, ` +
    `${m.systemd}, ${m.dbusDaemon}, dbus-next ${m.dbusNext}, unitd ${m.unitd} (${m.unitdCommit}${m.unitdSrcModified ? ' + uncommitted src changes' : ''}, dist built ${m.unitdBuiltAt}); ${seconds.toFixed(0)} s; ` +
    `load average ${loadAtStart[0]} at the start, ${(m.loadAverage as number[])[0]} at the end (${m.cpus} cores, shared with other jobs)`;
  process.stdout.write(`\n${header}\n\n${table}\n${systemdNote ? `\n${systemdNote}\n` : ''}`);

  mkdirSync(resultsDir, { recursive: true });
  const stamp = date.replace(/[:.]/g, '-');
  const json = { date, mode: full ? 'full' : 'small', seconds, loadAverageAtStart: loadAtStart, machine: m, sizes, systemdNote: systemdNote || null, rows, stopCurve: curve };
  const file = join(resultsDir, `${stamp}-${full ? 'full' : 'small'}${only ? '-partial' : ''}.json`);
  writeFileSync(file, JSON.stringify({ ...json, only: only ? [...only] : null, ab: abMain ?? null }, null, 2) + '\n');
  if (only) {
    // a partial run (--only) never replaces the latest complete results
    log(`partial run: results in ${file}; latest.* untouched`);
    return;
  }
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
  let md = `# Latest bench results\n\n${header}\n\n${table}\n`;
  if (curve) {
    writeFileSync(join(resultsDir, 'stop-curve.svg'), stopCurveSvg(curve, `StopUnit → JobRemoved (${full ? 'full' : 'small'} run, ${date.slice(0, 10)})`));
    md += `\n![stop latency: processes vs ms, unitd and systemd](stop-curve.svg)\n`;
  }
  if (systemdNote) md += `\n${systemdNote}\n`;
  writeFileSync(join(resultsDir, 'latest.md'), md);
  if (full) showInReadme(header, table);
  log(`results in ${resultsDir}`);
}

/** the top-level README shows the table of the latest complete full run, between two markers */
function showInReadme(header: string, table: string): void {
  const readme = join(REPO_ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- bench-latest:start -->';
  const end = '<!-- bench-latest:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return log('README.md has no bench-latest markers: table not shown there');
  writeFileSync(readme, `${text.slice(0, a + start.length)}
${header}

${table}
${text.slice(b)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
