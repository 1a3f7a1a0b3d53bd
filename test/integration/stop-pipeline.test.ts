// The stop pipeline beyond the KillMode matrix: ExecStop=/ExecStopPost= with $MAINPID, restart
// (RestartKillSignal, no SIGHUP), try-restart, reload (ExecReload with $MAINPID),
// reload-or-restart, stop while a start runs, CancelJob on a running stop, stop of an inactive and
// of an unknown unit. Every scenario runs on unitd and on real systemd 252 and must agree.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oracleAvailable, oracleUnavailableReason } from '../oracle/oracle.js';
import { closeLab, openLab, scenariosOnOracle, type Lab } from '../helpers/lab.js';
import {
  PYTHON,
  SIGREC,
  readRecords,
  signalSets,
  waitForStarts,
  type Target,
} from '../helpers/signal-lab.js';

const DEST = 'org.freedesktop.systemd1';
const MANAGER = ['/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager'];

function service(name: string, recorderArgs: string, extra: string[]): (dir: string) => string {
  return (dir) =>
    [
      '[Unit]',
      `Description=stop pipeline ${name}`,
      '[Service]',
      // after a fatal signal the main process lingers 400 ms, so its child (100 ms) is gone first
      // and the states do not depend on which of the two the manager sees last
      `ExecStart=${PYTHON} ${SIGREC} --log ${dir}/${name}.log --name main --drain 400 ${recorderArgs}`,
      ...extra.map((l) => l.replaceAll('@DIR@', dir).replaceAll('@U@', name)),
      '',
    ].join('\n');
}

const ARGREC = '@DIR@/argrec.sh @DIR@/@U@.args';
const UNITS: Record<string, (dir: string) => string> = {
  'sp-execstop.service': service('sp-execstop.service', '--children 1', [
    `ExecStop=${ARGREC} stop $MAINPID`,
    `ExecStop=${ARGREC} stop2 \${MAINPID}`,
    `ExecStopPost=${ARGREC} post $MAINPID`,
    'TimeoutStopSec=2s',
  ]),
  // the child outlives the restart signal, so the final round (KillSignal + SIGHUP) reaches it
  'sp-restart.service': service('sp-restart.service', '--children 1 --child-ignore INT', ['RestartKillSignal=SIGINT', 'SendSIGHUP=yes', 'TimeoutStopSec=2s']),
  'sp-reload.service': service('sp-reload.service', '', [`ExecReload=${ARGREC} reload $MAINPID`, 'TimeoutStopSec=2s']),
  'sp-noreload.service': service('sp-noreload.service', '', ['TimeoutStopSec=2s']),
  'sp-slowstart.service': service('sp-slowstart.service', '', ['ExecStartPre=/bin/sleep 30', 'TimeoutStopSec=2s']),
  'sp-stubborn.service': service('sp-stubborn.service', '--ignore-term', ['TimeoutStopSec=1500ms']),
  'sp-idle.service': service('sp-idle.service', '', []),
  // Result= after a stop (spec 8.5)
  'sp-hangstop.service': service('sp-hangstop.service', '', ['ExecStop=/bin/sleep 30', 'TimeoutStopSec=1s']),
  'sp-failpost.service': service('sp-failpost.service', '', ['ExecStopPost=/bin/false', 'TimeoutStopSec=2s']),
  'sp-ignorepost.service': service('sp-ignorepost.service', '', ['ExecStopPost=-/bin/false', 'TimeoutStopSec=2s']),
  'sp-exit143.service': service('sp-exit143.service', '--exit-on-term 143', ['TimeoutStopSec=2s']),
  'sp-exit143ok.service': service('sp-exit143ok.service', '--exit-on-term 143', ['SuccessExitStatus=143', 'TimeoutStopSec=2s']),
  'sp-quit.service': service('sp-quit.service', '', ['KillSignal=SIGQUIT', 'TimeoutStopSec=2s']),
  'sp-failstop.service': service('sp-failstop.service', '', ['ExecStop=/bin/false', `ExecStop=${ARGREC} second-stop`, 'TimeoutStopSec=2s']),
};
const FAILURE_MODE_UNITS = ['sp-fm-abort.service', 'sp-fm-kill.service', 'sp-fm-abort-post.service'];
UNITS['sp-fm-abort.service'] = service('sp-fm-abort.service', '--ignore-term', ['ExecStop=/bin/sleep 30', 'TimeoutStopSec=1s', 'TimeoutStopFailureMode=abort', 'TimeoutAbortSec=500ms']);
UNITS['sp-fm-kill.service'] = service('sp-fm-kill.service', '--ignore-term', ['ExecStop=/bin/sleep 30', 'TimeoutStopSec=1s', 'TimeoutStopFailureMode=kill']);
UNITS['sp-fm-abort-post.service'] = service('sp-fm-abort-post.service', '', ['ExecStopPost=/bin/sleep 30', 'TimeoutStopSec=1s', 'TimeoutStopFailureMode=abort', 'TimeoutAbortSec=500ms']);
const RESULT_UNITS = ['sp-hangstop.service', 'sp-failpost.service', 'sp-ignorepost.service', 'sp-exit143.service', 'sp-exit143ok.service', 'sp-quit.service', 'sp-failstop.service'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** a client's answer; the oracle's systemctl runs with --user, which shows in its hints */
const out = (r: { code: number; stdout: string; stderr: string }) => ({
  code: r.code,
  stdout: r.stdout.trim(),
  stderr: r.stderr.trim().replaceAll('systemctl --user ', 'systemctl ').replaceAll('journalctl --user ', 'journalctl '),
});

async function state(t: Target, unit: string): Promise<string> {
  const r = await t.systemctl(['show', '-p', 'ActiveState,SubState,Result', unit]);
  const m = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
  return `${m.ActiveState}/${m.SubState}/${m.Result}`;
}

async function settle(t: Target, unit: string, done: (s: string) => boolean, timeoutMs = 8000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await state(t, unit);
    if (done(s) || Date.now() > deadline) return s;
    await sleep(50);
  }
}

/**
 * Starts the units, stops them all with one systemctl stop, and reports per unit the SubStates it
 * went through, where it ended, and what `detail` adds; resets failed units afterwards.
 */
async function stopAndReport(t: Target, units: string[], detail: (unit: string, since: number) => Promise<Record<string, unknown>>): Promise<unknown> {
  const since = Date.now() / 1000;
  const start = await t.systemctl(['start', ...units]);
  expect(start.code, start.stderr).toBe(0);
  for (const u of units) await waitForStarts(join(t.dir, `${u}.log`), ['main'], since);
  const mark = t.mark();
  const stop = out(await t.systemctl(['stop', ...units]));
  await sleep(150);
  const report: Record<string, unknown> = {};
  for (const u of units) {
    report[u] = { subStates: t.subStates(u, mark), final: await state(t, u), ...(await detail(u, since)) };
    await t.systemctl(['reset-failed', u]);
  }
  return { stop, units: report };
}

async function started(t: Target, unit: string, names = ['main']): Promise<Record<string, number>> {
  const since = Date.now() / 1000;
  const r = await t.systemctl(['start', unit]);
  expect(r.code, `${t.kind} start ${unit}: ${r.stderr}`).toBe(0);
  return waitForStarts(join(t.dir, `${unit}.log`), names, since);
}

function argLines(t: Target, unit: string, pids: number[]): string[] {
  const f = join(t.dir, `${unit}.args`);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => pids.reduce((acc, p, i) => acc.replaceAll(`|${p}|`, `|PID${i}|`), l));
}

const SCENARIOS: Record<string, (t: Target) => Promise<unknown>> = {
  async 'stop: ExecStop gets $MAINPID (also ${MAINPID}), ExecStopPost after the main process has gone does not'(t) {
    const u = 'sp-execstop.service';
    const pids = await started(t, u, ['main', 'main.child1']);
    const mark = t.mark();
    const r = await t.systemctl(['stop', u]);
    await sleep(150);
    return {
      r: out(r),
      args: argLines(t, u, [pids.main!]),
      subStates: t.subStates(u, mark),
      got: signalSets(readRecords(join(t.dir, `${u}.log`))),
      final: await state(t, u),
    };
  },
  async 'restart: RestartKillSignal instead of KillSignal, no SIGHUP; try-restart of an active unit likewise'(t) {
    const u = 'sp-restart.service';
    await started(t, u, ['main', 'main.child1']);
    const mark = t.mark();
    const since = Date.now() / 1000;
    const r = await t.systemctl(['restart', u]);
    await waitForStarts(join(t.dir, `${u}.log`), ['main', 'main.child1'], since);
    const byOld = readRecords(join(t.dir, `${u}.log`)).filter((x) => x.ev === 'sig' && x.t >= since && x.sig !== 'CHLD').map((x) => `${x.name}:${x.sig}`).sort();
    await sleep(200);
    const subStates = t.subStates(u, mark);
    const since2 = Date.now() / 1000;
    const tr = await t.systemctl(['try-restart', u]);
    await waitForStarts(join(t.dir, `${u}.log`), ['main', 'main.child1'], since2);
    const byOld2 = readRecords(join(t.dir, `${u}.log`)).filter((x) => x.ev === 'sig' && x.t >= since2 && x.sig !== 'CHLD').map((x) => `${x.name}:${x.sig}`).sort();
    const final = await state(t, u);
    await t.systemctl(['stop', u]);
    const trInactive = out(await t.systemctl(['try-restart', u]));
    const afterTry = await state(t, u);
    return { r: out(r), byOld, subStates, tr: out(tr), byOld2, final, trInactive, afterTry };
  },
  async 'reload: ExecReload with $MAINPID; reload-or-restart reloads when it can, restarts when it cannot'(t) {
    const u = 'sp-reload.service';
    const pids = await started(t, u);
    const mark = t.mark();
    const r = await t.systemctl(['reload', u]);
    const rr = await t.systemctl(['reload-or-restart', u]);
    await sleep(200);
    const args = argLines(t, u, [pids.main!]);
    const subStates = t.subStates(u, mark);
    const samePid = (await t.prop(u, 'MainPID')) === String(pids.main);
    await t.systemctl(['stop', u]);
    const n = 'sp-noreload.service';
    const p2 = await started(t, n);
    const noReload = out(await t.systemctl(['reload', n]));
    const since = Date.now() / 1000;
    const rr2 = out(await t.systemctl(['reload-or-restart', n]));
    const p3 = await waitForStarts(join(t.dir, `${n}.log`), ['main'], since);
    await t.systemctl(['stop', n]);
    return { r: out(r), rr: out(rr), args, subStates, samePid, noReload, rr2, restarted: p3.main !== p2.main };
  },
  async 'stop while a start runs: the start job is canceled, ExecStop skipped'(t) {
    const u = 'sp-slowstart.service';
    const mark = t.mark();
    const start = t.systemctl(['start', u]);
    await settle(t, u, (s) => s.startsWith('activating/start-pre'));
    const stop = await t.systemctl(['stop', u]);
    const startResult = await start;
    return { start: out(startResult), stop: out(stop), subStates: t.subStates(u, mark), final: await state(t, u) };
  },
  async 'CancelJob on a running stop: the unit keeps stopping and ends as the stop would'(t) {
    const u = 'sp-stubborn.service';
    await started(t, u);
    const mark = t.mark();
    const stop = out(await t.systemctl(['stop', '--no-block', u]));
    const job = await t.busctl(['get-property', DEST, '/org/freedesktop/systemd1/unit/sp_2dstubborn_2eservice', 'org.freedesktop.systemd1.Unit', 'Job']);
    const id = /\(uo\) (\d+)/.exec(job.stdout)?.[1] ?? '0';
    const cancel = out(await t.busctl(['call', DEST, ...MANAGER, 'CancelJob', 'u', id]));
    const during = await state(t, u);
    const jobAfter = (await t.busctl(['get-property', DEST, '/org/freedesktop/systemd1/unit/sp_2dstubborn_2eservice', 'org.freedesktop.systemd1.Unit', 'Job'])).stdout.trim();
    const final = await settle(t, u, (s) => s.startsWith('inactive') || s.startsWith('failed'), 10_000);
    return { stop, cancel, during, jobAfter, final, subStates: t.subStates(u, mark), got: signalSets(readRecords(join(t.dir, `${u}.log`))) };
  },
  async 'Result= after a stop: ExecStop timeout, failing ExecStop/ExecStopPost (with and without "-"), exit 143, SuccessExitStatus, KillSignal=SIGQUIT'(t) {
    return stopAndReport(t, RESULT_UNITS, async (u) => ({ args: argLines(t, u, []), exec: `${await t.prop(u, 'ExecMainCode')}/${await t.prop(u, 'ExecMainStatus')}` }));
  },
  async 'TimeoutStopFailureMode=abort (WatchdogSignal, TimeoutAbortSec) and =kill'(t) {
    return stopAndReport(t, FAILURE_MODE_UNITS, async (u, since) => ({ signals: signalSets(readRecords(join(t.dir, `${u}.log`)), since) }));
  },
  async 'stop of an inactive unit is done at once; of an unknown unit: exit 5, NoSuchUnit'(t) {
    const idle = out(await t.systemctl(['stop', 'sp-idle.service']));
    const unknown = out(await t.systemctl(['stop', 'sp-nosuch.service']));
    const bus = out(await t.busctl(['call', DEST, ...MANAGER, 'StopUnit', 'ss', 'sp-nosuch.service', 'replace']));
    return { idle, unknown, bus };
  },
};

let lab: Lab;
const mine: Record<string, unknown> = {};

beforeAll(async () => {
  lab = await openLab('unitd-stop-pipe-', UNITS, { argRecorder: true });
});

afterAll(() => closeLab(lab));

describe('stop pipeline, restart, reload, job conflicts — compared with systemd 252', () => {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(`unitd: ${name}`, { timeout: 30_000 }, async () => {
      mine[name] = await scenario(lab.target);
    });
  }

  it('unitd, without the oracle: $MAINPID substituted then dropped, restart without SIGHUP', () => {
    const s = mine['stop: ExecStop gets $MAINPID (also ${MAINPID}), ExecStopPost after the main process has gone does not'] as { args: string[] };
    expect(s.args).toEqual(['stop|PID0|', 'stop2|PID0|', 'post|']);
    const r = mine['restart: RestartKillSignal instead of KillSignal, no SIGHUP; try-restart of an active unit likewise'] as { byOld: string[] };
    // the restart round: RestartKillSignal + SIGCONT, no SIGHUP; the child that survives it gets
    // KillSignal + SIGCONT + SIGHUP in the final round
    expect(r.byOld).toEqual(['main.child1:CONT', 'main.child1:CONT', 'main.child1:HUP', 'main.child1:INT', 'main.child1:TERM', 'main:CONT', 'main:INT']);
    const restartLog = lab.unitd.logs.find((l) => l.msg === 'signal sent' && l.unit === 'sp-restart.service');
    expect(restartLog).toMatchObject({ signal: 'SIGINT', op: 'restart', sighup: false });
    const finalRound = lab.unitd.logs.filter((l) => l.msg === 'signal sent' && l.unit === 'sp-restart.service')[1];
    expect(finalRound).toMatchObject({ signal: 'SIGTERM', op: 'terminate', sighup: true });
  });

  it('systemd 252 does the same', { timeout: 180_000 }, async (ctx) => {
    if (!oracleAvailable()) {
      ctx.skip(`oracle unavailable: ${oracleUnavailableReason()}`);
      return;
    }
    const theirs = await scenariosOnOracle(lab, UNITS, SCENARIOS, { argRecorder: true });
    console.log(JSON.stringify({ unitd: mine, systemd: theirs }, null, 1));
    for (const name of Object.keys(SCENARIOS)) expect.soft(mine[name], name).toEqual(theirs[name]);
  });
});
