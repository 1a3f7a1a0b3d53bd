// Issue 3, jobs: StartUnit/GetJob/ListJobs/CancelJob through busctl, JobNew/JobRemoved and the
// method reply in the order a subscribed dbus-next client receives them, job modes, the unit's Job
// property and ListUnits' job columns while a job runs, systemctl start/restart/status.
// Every scenario runs on unitd (private dbus-daemon) and on real systemd 252 (the oracle) with the
// same unit files; the oracle half is skipped with a printed reason when it cannot run here.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEST,
  MANAGER,
  Recorder,
  expectSame,
  onBothSides,
  removeDir,
  startOracleSide,
  startUnitdSide,
  unitDir,
  userless,
  waitUntil,
  type Both,
  type Side,
  type UnitdSide,
} from './start-support.js';

const UNITS: Record<string, string> = {
  'sj-quick.service': '[Service]\nExecStart=/bin/sleep 1000\n',
  // the start job stays running while ExecStartPre sleeps
  'sj-slow.service': '[Service]\nExecStartPre=/bin/sleep 3\nExecStart=/bin/sleep 1000\n',
  'sj-slow2.service': '[Service]\nExecStartPre=/bin/sleep 3\nExecStart=/bin/sleep 1000\n',
  'sj-slow3.service': '[Service]\nExecStartPre=/bin/sleep 3\nExecStart=/bin/sleep 1000\n',
  'sj-prefail.service': '[Service]\nExecStartPre=/bin/false\nExecStart=/bin/sleep 1000\n',
  'sj-restart.service': '[Service]\nExecStart=/bin/sleep 1000\n',
  'sj-clear1.service': '[Service]\nExecStartPre=/bin/sleep 3\nExecStart=/bin/sleep 1000\n',
  'sj-clear2.service': '[Service]\nExecStartPre=/bin/sleep 3\nExecStart=/bin/sleep 1000\n',
  'sj-reset.service': '[Service]\nExecStart=/bin/false\n',
  'sj-object.service': '[Service]\nExecStart=/bin/sleep 1000\n',
};

let dir: string;
let u: UnitdSide;
let o: Side | null = null;

beforeAll(async () => {
  dir = unitDir(UNITS);
  u = await startUnitdSide(dir);
  o = await startOracleSide(dir);
}, 60_000);

afterAll(async () => {
  await u?.stop();
  await o?.stop();
  removeDir(dir);
});

function sides(): Side[] {
  return o ? [u, o] : [u];
}

const onBoth = <T>(fn: (s: Side) => Promise<T>): Promise<Both<T>> => onBothSides(u, o, fn);

describe('a job on the wire: reply, JobNew, JobRemoved', () => {
  it('StartUnit: JobNew and JobRemoved(done) for the returned path; unitd replies before JobNew', async () => {
    const r = await onBoth(async (s) => {
      const rec = await Recorder.connect(s.address);
      try {
        const { reply, serial } = await rec.manager('StartUnit', 'ss', ['sj-quick.service', 'replace']);
        const path = reply.body[0] as string;
        const removed = await rec.waitFor((m) => m.member === 'JobRemoved' && m.body[1] === path, `JobRemoved on ${s.name}`);
        const news = rec.signals('JobNew').filter((m) => m.body[1] === path);
        const replyAt = rec.indexOfReply(serial);
        const newAt = rec.seen.indexOf(news[0]!);
        const removedAt = rec.seen.indexOf(removed);
        const id = Number(path.split('/').pop());
        return {
          jobNew: news.map((m) => m.body),
          jobRemoved: removed.body,
          pathIsJobPath: path === `/org/freedesktop/systemd1/job/${id}`,
          newBeforeRemoved: newAt < removedAt,
          replyBeforeRemoved: replyAt < removedAt,
          replyBeforeNew: replyAt < newAt,
          id,
          path,
        };
      } finally {
        rec.close();
      }
    });
    for (const x of [r.unitd, r.systemd]) {
      if (!x) continue;
      expect(x.pathIsJobPath).toBe(true);
      expect(x.jobNew).toEqual([[x.id, x.path, 'sj-quick.service']]);
      expect(x.jobRemoved).toEqual([x.id, x.path, 'sj-quick.service', 'done']);
      expect(x.newBeforeRemoved).toBe(true);
      expect(x.replyBeforeRemoved).toBe(true);
    }
    // issue 3 asks for the reply first (clients filter JobRemoved by the returned path)
    expect(r.unitd.replyBeforeNew).toBe(true);
    if (r.systemd) console.info(`systemd 252: method reply ${r.systemd.replyBeforeNew ? 'before' : 'after'} JobNew`);
  });

  it('a failing start ends with JobRemoved(failed); every job ends with JobRemoved', async () => {
    const r = await onBoth(async (s) => {
      const rec = await Recorder.connect(s.address);
      try {
        const { reply } = await rec.manager('StartUnit', 'ss', ['sj-prefail.service', 'replace']);
        const path = reply.body[0] as string;
        const removed = await rec.waitFor((m) => m.member === 'JobRemoved' && m.body[1] === path, 'JobRemoved');
        const state = await s.show('sj-prefail.service', ['ActiveState', 'SubState', 'Result']);
        await s.systemctl(['reset-failed', 'sj-prefail.service']);
        return { result: removed.body[3], unit: removed.body[2], state };
      } finally {
        rec.close();
      }
    });
    expectSame(r);
    expect(r.unitd.result).toBe('failed');
    expect(r.unitd.state).toEqual({ ActiveState: 'failed', SubState: 'failed', Result: 'exit-code' });
  });
});

describe('a running job: GetJob, ListJobs, the Job property, ListUnits, CancelJob', () => {
  it('shows the start job while ExecStartPre runs, cancels it like systemd', async () => {
    const r = await onBoth(async (s) => {
      const rec = await Recorder.connect(s.address);
      try {
        const { reply } = await rec.manager('StartUnit', 'ss', ['sj-slow.service', 'replace']);
        const path = reply.body[0] as string;
        const id = Number(path.split('/').pop());
        await waitUntil(async () => (await s.show('sj-slow.service', ['SubState'])).SubState === 'start-pre', 'start-pre');
        const getJob = (await s.busctl(['call', DEST, ...MANAGER, 'GetJob', 'u', String(id)])).stdout.trim();
        const listJobs = JSON.parse((await s.busctl(['-j', 'call', DEST, ...MANAGER, 'ListJobs'])).stdout) as { data: unknown[][][] };
        const jobProp = (await s.busctl(['get-property', DEST, '/org/freedesktop/systemd1/unit/sj_2dslow_2eservice', 'org.freedesktop.systemd1.Unit', 'Job'])).stdout.trim();
        const jobState = (await s.busctl(['get-property', DEST, path, 'org.freedesktop.systemd1.Job', 'State', 'JobType', 'Unit'])).stdout.trim().split('\n');
        const byNames = JSON.parse((await s.busctl(['-j', 'call', DEST, ...MANAGER, 'ListUnitsByNames', 'as', '1', 'sj-slow.service'])).stdout) as { data: unknown[][][] };
        const listUnits = (await s.systemctl(['list-units', '--plain', '--no-legend', 'sj-slow.service'])).stdout.trim().replace(/\s+/g, ' ');
        const listJobsText = (await s.systemctl(['list-jobs', '--no-legend'])).stdout.trim().replace(/\s+/g, ' ');
        const during = await s.show('sj-slow.service', ['ActiveState', 'SubState', 'Job', 'ControlPID', 'MainPID']);
        const controlComm = readFileSync(`/proc/${during.ControlPID}/cmdline`, 'utf8').split('\0').join(' ').trim();
        const cancel = await s.busctl(['call', DEST, ...MANAGER, 'CancelJob', 'u', String(id)]);
        const removed = await rec.waitFor((m) => m.member === 'JobRemoved' && m.body[1] === path, 'JobRemoved');
        const afterCancel = await s.show('sj-slow.service', ['Job']);
        const again = await s.busctl(['call', DEST, ...MANAGER, 'GetJob', 'u', String(id)]);
        const cancelAgain = await s.busctl(['call', DEST, ...MANAGER, 'CancelJob', 'u', String(id)]);
        // canceling a running start job does not stop the unit: it still gets to active
        const final = await waitUntil(async () => {
          const st = await s.show('sj-slow.service', ['ActiveState', 'SubState']);
          return st.ActiveState !== 'activating' ? st : undefined;
        }, 'leaving activating', 10_000);
        await s.systemctl(['stop', 'sj-slow.service']);
        return {
          getJob: getJob === `o "${path}"`,
          listJobs: listJobs.data[0]!.map((j) => [j[0] === id, j[1], j[2], j[3], j[4] === path, j[5]]),
          jobProp: jobProp === `(uo) ${id} "${path}"`,
          jobState: [jobState[0], jobState[1], jobState[2]],
          listUnitsJob: byNames.data[0]!.map((row) => [row[7] === id, row[8], row[9] === path]),
          listUnits,
          listJobsText: listJobsText.replace(String(id), 'ID'),
          during: { ...during, Job: during.Job === String(id), ControlPID: controlComm },
          cancel: [cancel.code, cancel.stdout],
          removed: removed.body[3],
          afterCancel,
          again: [again.code, again.stderr.trim().replace(String(id), 'ID')],
          cancelAgain: [cancelAgain.code, cancelAgain.stderr.trim().replace(String(id), 'ID')],
          final,
        };
      } finally {
        rec.close();
      }
    });
    expectSame(r);
    expect(r.unitd.getJob).toBe(true);
    expect(r.unitd.listJobs).toEqual([[true, 'sj-slow.service', 'start', 'running', true, '/org/freedesktop/systemd1/unit/sj_2dslow_2eservice']]);
    expect(r.unitd.jobProp).toBe(true);
    expect(r.unitd.jobState).toEqual(['s "running"', 's "start"', '(so) "sj-slow.service" "/org/freedesktop/systemd1/unit/sj_2dslow_2eservice"']);
    expect(r.unitd.listUnitsJob).toEqual([[true, 'start', true]]);
    expect(r.unitd.listUnits).toBe('sj-slow.service loaded activating start-pre start sj-slow.service');
    expect(r.unitd.listJobsText).toBe('ID sj-slow.service start running');
    expect(r.unitd.during).toEqual({ ActiveState: 'activating', SubState: 'start-pre', Job: true, ControlPID: '/bin/sleep 3', MainPID: '0' });
    expect(r.unitd.removed).toBe('canceled');
    expect(r.unitd.again[1]).toBe('Call failed: Job ID does not exist.');
    expect(r.unitd.final).toEqual({ ActiveState: 'active', SubState: 'running' });
  });
});

describe('job modes', () => {
  it('fail refuses to replace a conflicting queued job; replace cancels it', async () => {
    const r = await onBoth(async (s) => {
      const rec = await Recorder.connect(s.address);
      try {
        const { reply } = await rec.manager('StartUnit', 'ss', ['sj-slow2.service', 'replace']);
        const startPath = reply.body[0] as string;
        await waitUntil(async () => (await s.show('sj-slow2.service', ['SubState'])).SubState === 'start-pre', 'start-pre');
        const failMode = await s.busctl(['call', DEST, ...MANAGER, 'StopUnit', 'ss', 'sj-slow2.service', 'fail']);
        const stillThere = (await s.show('sj-slow2.service', ['ActiveState', 'SubState'])).SubState;
        // a compatible request merges into the job that is there: same path
        const merged = (await s.busctl(['call', DEST, ...MANAGER, 'StartUnit', 'ss', 'sj-slow2.service', 'fail'])).stdout.trim();
        const replace = await rec.manager('StopUnit', 'ss', ['sj-slow2.service', 'replace']);
        const stopPath = replace.reply.body[0] as string;
        const startRemoved = await rec.waitFor((m) => m.member === 'JobRemoved' && m.body[1] === startPath, 'start JobRemoved');
        const stopRemoved = await rec.waitFor((m) => m.member === 'JobRemoved' && m.body[1] === stopPath, 'stop JobRemoved');
        const final = await s.show('sj-slow2.service', ['ActiveState', 'SubState', 'Result']);
        return {
          failMode: [failMode.code, failMode.stderr.trim()],
          stillThere,
          merged: merged === `o "${startPath}"`,
          differentPaths: stopPath !== startPath,
          startResult: startRemoved.body[3],
          stopResult: stopRemoved.body[3],
          final,
        };
      } finally {
        rec.close();
      }
    });
    expectSame(r);
    expect(r.unitd.failMode).toEqual([
      1,
      "Call failed: Transaction for sj-slow2.service/stop is destructive (sj-slow2.service has 'start' job queued, but 'stop' is included in transaction).",
    ]);
    expect(r.unitd.stillThere).toBe('start-pre');
    expect(r.unitd.merged).toBe(true);
    expect(r.unitd.startResult).toBe('canceled');
    expect(r.unitd.stopResult).toBe('done');
    // the SIGTERM'd ExecStartPre counts as a failed command, as in systemd 252 (oracle)
    expect(r.unitd.final).toEqual({ ActiveState: 'failed', SubState: 'failed', Result: 'signal' });
  });

  it('systemctl start waiting on a job that another request replaces: "canceled", exit 1', async () => {
    const r = await onBoth(async (s) => {
      const start = s.systemctl(['start', 'sj-slow3.service']);
      await waitUntil(async () => (await s.show('sj-slow3.service', ['SubState'])).SubState === 'start-pre', 'start-pre');
      const stop = await s.systemctl(['stop', 'sj-slow3.service']);
      const started = await start;
      return { start: [started.code, userless(started.stderr)], stop: [stop.code, stop.stderr] };
    });
    expectSame(r);
    expect(r.unitd.start).toEqual([1, 'Job for sj-slow3.service canceled.\n']);
    expect(r.unitd.stop).toEqual([0, '']);
  });

  it.each([
    ['bogus mode', ['StartUnit', 'ss', 'sj-quick.service', 'bogus']],
    ['isolate of a unit without AllowIsolate', ['StartUnit', 'ss', 'sj-quick.service', 'isolate']],
    ['isolate with stop', ['StopUnit', 'ss', 'sj-quick.service', 'isolate']],
    ['triggering with start', ['StartUnit', 'ss', 'sj-quick.service', 'triggering']],
  ])('%s: the error systemd sends', async (_label, call) => {
    const r = await onBoth(async (s) => {
      const res = await s.busctl(['call', DEST, ...MANAGER, ...call]);
      const jobs = await s.busctl(['call', DEST, ...MANAGER, 'ListJobs']);
      return { code: res.code, stderr: res.stderr.trim(), jobs: jobs.stdout.trim() };
    });
    expectSame(r);
    expect(r.unitd.code).toBe(1);
    expect(r.unitd.jobs).toBe('a(usssoo) 0');
  });

  it('ignore-dependencies, ignore-requirements, replace-irreversibly and flush are accepted', async () => {
    const r = await onBoth(async (s) => {
      const out: unknown[] = [];
      for (const mode of ['ignore-dependencies', 'ignore-requirements', 'replace-irreversibly', 'flush']) {
        const start = await s.busctl(['call', DEST, ...MANAGER, 'StartUnit', 'ss', 'sj-quick.service', mode]);
        out.push([mode, start.code, start.stderr.trim()]);
        await waitUntil(async () => (await s.show('sj-quick.service', ['Job'])).Job === '', 'job gone');
        const stop = await s.systemctl(['stop', 'sj-quick.service']);
        out.push(stop.code);
      }
      return out;
    });
    expectSame(r);
    expect(r.unitd).toEqual([
      ['ignore-dependencies', 0, ''], 0,
      ['ignore-requirements', 0, ''], 0,
      ['replace-irreversibly', 0, ''], 0,
      ['flush', 0, ''], 0,
    ]);
  });
});

describe('ClearJobs, ResetFailedUnit, Unit.Start / Unit.ResetFailed', () => {
  it('ClearJobs cancels every job: JobRemoved(canceled) for each, ListJobs empty', async () => {
    const r = await onBoth(async (s) => {
      const rec = await Recorder.connect(s.address);
      try {
        const a = (await rec.manager('StartUnit', 'ss', ['sj-clear1.service', 'replace'])).reply.body[0] as string;
        const b = (await rec.manager('StartUnit', 'ss', ['sj-clear2.service', 'replace'])).reply.body[0] as string;
        await waitUntil(async () => (await s.show('sj-clear2.service', ['SubState'])).SubState === 'start-pre', 'start-pre');
        const clear = await s.busctl(['call', DEST, ...MANAGER, 'ClearJobs']);
        const ra = await rec.waitFor((m) => m.member === 'JobRemoved' && m.body[1] === a, 'JobRemoved a');
        const rb = await rec.waitFor((m) => m.member === 'JobRemoved' && m.body[1] === b, 'JobRemoved b');
        const jobs = (await s.busctl(['call', DEST, ...MANAGER, 'ListJobs'])).stdout.trim();
        await s.systemctl(['stop', 'sj-clear1.service', 'sj-clear2.service']);
        return { clear: clear.code, results: [ra.body[2], ra.body[3], rb.body[2], rb.body[3]], jobs };
      } finally {
        rec.close();
      }
    });
    expectSame(r);
    expect(r.unitd).toEqual({ clear: 0, results: ['sj-clear1.service', 'canceled', 'sj-clear2.service', 'canceled'], jobs: 'a(usssoo) 0' });
  });

  it('ResetFailedUnit and Unit.ResetFailed clear the failed state; Unit.Start queues a job on the object', async () => {
    const r = await onBoth(async (s) => {
      const path = '/org/freedesktop/systemd1/unit/sj_2dreset_2eservice';
      await s.systemctl(['start', 'sj-reset.service']);
      const failed = await waitUntil(async () => {
        const p = await s.show('sj-reset.service', ['ActiveState', 'Result']);
        return p.ActiveState === 'failed' ? p : undefined;
      }, 'failed');
      const reset = await s.busctl(['call', DEST, ...MANAGER, 'ResetFailedUnit', 's', 'sj-reset.service']);
      const afterReset = await s.busctl(['get-property', DEST, path, 'org.freedesktop.systemd1.Unit', 'ActiveState']);
      await s.systemctl(['start', 'sj-reset.service']);
      await waitUntil(async () => (await s.show('sj-reset.service', ['ActiveState'])).ActiveState === 'failed', 'failed again');
      const viaObject = await s.busctl(['call', DEST, path, 'org.freedesktop.systemd1.Unit', 'ResetFailed']);
      const afterObject = (await s.show('sj-reset.service', ['ActiveState', 'Result']));
      const unknown = await s.busctl(['call', DEST, ...MANAGER, 'ResetFailedUnit', 's', 'sj-never-loaded.service']);
      const start = await s.busctl(['call', DEST, '/org/freedesktop/systemd1/unit/sj_2dobject_2eservice', 'org.freedesktop.systemd1.Unit', 'Start', 's', 'replace']);
      const active = await waitUntil(async () => (await s.show('sj-object.service', ['ActiveState'])).ActiveState === 'active', 'active');
      await s.systemctl(['stop', 'sj-object.service']);
      return {
        failed,
        reset: [reset.code, reset.stderr],
        afterReset: afterReset.stdout.trim(),
        viaObject: viaObject.code,
        afterObject,
        unknown: [unknown.code, unknown.stderr.trim()],
        start: [start.code, /^o "\/org\/freedesktop\/systemd1\/job\/\d+"$/.test(start.stdout.trim())],
        active,
      };
    });
    expectSame(r);
    expect(r.unitd).toEqual({
      failed: { ActiveState: 'failed', Result: 'exit-code' },
      reset: [0, ''],
      afterReset: 's "inactive"',
      viaObject: 0,
      afterObject: { ActiveState: 'inactive', Result: 'success' },
      unknown: [1, 'Call failed: Unit sj-never-loaded.service not loaded.'],
      start: [0, true],
      active: true,
    });
  });
});

describe('systemctl start / restart / status', () => {
  it('start, restart (new main PID, new invocation), status with the CGroup tree', async () => {
    const r = await onBoth(async (s) => {
      const t0 = Date.now();
      const start = await s.systemctl(['start', 'sj-restart.service']);
      const startMs = Date.now() - t0;
      const first = await s.show('sj-restart.service', ['MainPID', 'InvocationID', 'ActiveState', 'SubState', 'NRestarts']);
      const restart = await s.systemctl(['restart', 'sj-restart.service']);
      const second = await s.show('sj-restart.service', ['MainPID', 'InvocationID', 'ActiveState', 'SubState', 'NRestarts', 'ControlGroup']);
      const status = await s.systemctl(['status', 'sj-restart.service']);
      await s.systemctl(['stop', 'sj-restart.service']);
      const pid = second.MainPID!;
      const lines = status.stdout.split('\n');
      return {
        start: start.code,
        startMs,
        restart: restart.code,
        newMain: first.MainPID !== second.MainPID && Number(first.MainPID) > 0,
        newInvocation: first.InvocationID !== second.InvocationID && /^[0-9a-f]{32}$/.test(second.InvocationID!),
        states: [first.ActiveState, first.SubState, second.ActiveState, second.SubState, second.NRestarts],
        statusCode: status.code,
        active: /^\s+Active: active \(running\) since /.test(lines.find((l) => l.includes('Active:')) ?? ''),
        mainLine: (lines.find((l) => l.includes('Main PID:')) ?? '').trim() === `Main PID: ${pid} (sleep)`,
        cgroupLine: (lines.find((l) => l.includes('CGroup:')) ?? '').trim() === `CGroup: ${second.ControlGroup}`,
        treeLine: lines.some((l) => l.trim() === `\`-${pid} /bin/sleep 1000`),
      };
    });
    console.info(`systemctl start latency: unitd ${r.unitd.startMs} ms${r.systemd ? `, systemd ${r.systemd.startMs} ms` : ''}`);
    expect(r.unitd.start).toBe(0);
    expect(r.unitd.restart).toBe(0);
    expect(r.unitd.newMain).toBe(true);
    expect(r.unitd.newInvocation).toBe(true);
    expect(r.unitd.states).toEqual(['active', 'running', 'active', 'running', '0']);
    expect(r.unitd.statusCode).toBe(0);
    expect(r.unitd.active).toBe(true);
    expect(r.unitd.mainLine).toBe(true);
    expect(r.unitd.cgroupLine).toBe(true);
    expect(r.unitd.treeLine).toBe(true);
    if (r.systemd) expect({ ...r.unitd, startMs: 0 }).toEqual({ ...r.systemd, startMs: 0 });
  });

  it('a failing ExecStartPre: "Job for x failed because the control process exited with error code.", exit 1', async () => {
    const r = await onBoth(async (s) => {
      const start = await s.systemctl(['start', 'sj-prefail.service']);
      const show = await s.show('sj-prefail.service', ['ActiveState', 'SubState', 'Result', 'ExecMainPID', 'MainPID', 'ControlPID']);
      const status = await s.systemctl(['status', 'sj-prefail.service']);
      const isFailed = await s.systemctl(['is-failed', 'sj-prefail.service']);
      await s.systemctl(['reset-failed', 'sj-prefail.service']);
      const after = await s.show('sj-prefail.service', ['ActiveState', 'Result']);
      return {
        code: start.code,
        stderr: userless(start.stderr),
        show,
        statusCode: status.code,
        activeLine: (status.stdout.split('\n').find((l) => l.includes('Active:')) ?? '').replace(/ since .*/, '').trim(),
        processLine: (status.stdout.split('\n').find((l) => l.includes('Process:')) ?? '').replace(/\d+/, 'PID').trim(),
        isFailed: [isFailed.code, isFailed.stdout.trim()],
        after,
      };
    });
    expectSame(r);
    expect(r.unitd.code).toBe(1);
    expect(r.unitd.stderr).toBe(
      'Job for sj-prefail.service failed because the control process exited with error code.\nSee "systemctl status sj-prefail.service" and "journalctl -xeu sj-prefail.service" for details.\n',
    );
    expect(r.unitd.show).toEqual({ ActiveState: 'failed', SubState: 'failed', Result: 'exit-code', ExecMainPID: '0', MainPID: '0', ControlPID: '0' });
    expect(r.unitd.statusCode).toBe(3);
    expect(r.unitd.activeLine).toBe('Active: failed (Result: exit-code)');
    expect(r.unitd.processLine).toBe('Process: PID ExecStartPre=/bin/false (code=exited, status=1/FAILURE)');
    expect(r.unitd.isFailed).toEqual([0, 'failed']);
    expect(r.unitd.after).toEqual({ ActiveState: 'inactive', Result: 'success' });
  });
});

describe('start latency (reported, not bounded)', () => {
  it('systemctl start + stop of a simple service, 10 rounds: every start ends active', async () => {
    const r = await onBoth(async (s) => {
      const starts: number[] = [];
      const states: string[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        const a = await s.systemctl(['start', 'sj-quick.service']);
        starts.push(performance.now() - t0);
        states.push(`${a.code} ${(await s.show('sj-quick.service', ['ActiveState'])).ActiveState}`);
        await s.systemctl(['stop', 'sj-quick.service']);
      }
      starts.sort((x, y) => x - y);
      return { states, median: Math.round(starts[5]!), max: Math.round(starts[9]!) };
    });
    console.info(`systemctl start (incl. the client's own start-up): unitd median ${r.unitd.median} ms, max ${r.unitd.max} ms${r.systemd ? `; systemd median ${r.systemd.median} ms, max ${r.systemd.max} ms` : ''}`);
    expect(r.unitd.states).toEqual(Array(10).fill('0 active'));
    if (r.systemd) expect(r.systemd.states).toEqual(r.unitd.states);
  });
});

describe('sanity', () => {
  it('both sides are alive', async () => {
    for (const s of sides()) expect((await s.busctl(['call', DEST, '/org/freedesktop/systemd1', 'org.freedesktop.DBus.Peer', 'Ping'])).code).toBe(0);
  });
});
