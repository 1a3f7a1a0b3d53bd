// Who may call what (issue 13, items 1 and 5), side by side with systemd 252: every method unitd
// serves, called as root, as `nobody`, and as `nobody` holding CAP_KILL and CAP_SYS_ADMIN in its
// effective set. systemd judges a caller on a dbus-daemon bus by the uid the bus recorded for the
// connection (sd_bus_query_sender_privilege: capabilities are never known there, /proc is not
// trusted), so both `nobody`s get the same answers; before the fix unitd read CapEff from
// /proc/PID and let the second one kill and stop units, and let anyone daemon-reload.
// Then the setuid race: `nobody` sends KillUnit/StopUnit and at once execs a setuid-root program
// that inherits the bus socket; a manager that looks at /proc/PID after the call arrived sees
// root there (8 of 10 tries got through before the fix).
//
// The oracle's bus is opened to every user (startOracle busForAllUsers) so `nobody` reaches the
// user manager the way it reaches the system manager; its manager runs as root, as unitd does.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type Result } from '../helpers/clients.js';
import { loadInterfaceSpecs } from '../../src/bus/interface-spec.js';
import { PYTHON } from '../helpers/signal-lab.js';
import { oracleAvailable, oracleUnavailableReason, startOracle, type Oracle } from '../oracle/oracle.js';
import { removeDir, sleep, startUnitdSide, unitDir, type UnitdSide } from './start-support.js';

const DEST = 'org.freedesktop.systemd1';
const M = '/org/freedesktop/systemd1';
const MI = 'org.freedesktop.systemd1.Manager';
const UI = 'org.freedesktop.systemd1.Unit';
const SI = 'org.freedesktop.systemd1.Service';
const TARGET = 'pv-target.service';
const TARGET_PATH = '/org/freedesktop/systemd1/unit/pv_2dtarget_2eservice';
const RACE = fileURLToPath(new URL('../helpers/setuid-race.py', import.meta.url));

const NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
const NOBODY_WITH_CAPS = [...NOBODY, '--inh-caps=+kill,+sys_admin', '--ambient-caps=+kill,+sys_admin'];

const UNITS = {
  [TARGET]: '[Service]\nExecStart=/bin/sleep 1000\nExecReload=/bin/true\n',
  'pv-other.service': '[Service]\nExecStart=/bin/sleep 1000\n',
  // a start job that stays queued long enough to be looked at and cancelled
  'pv-slow.service': '[Service]\nExecStartPre=/bin/sleep 30\nExecStart=/bin/sleep 1000\n',
};
const JOB = 'JOB'; // replaced by the path of pv-slow.service's start job on each side

/** [label, object path, interface.member, dbus-send arguments] */
type Row = [string, string, string, string[]];
const ROWS: Row[] = [
  ['StartUnit', M, `${MI}.StartUnit`, ['string:pv-other.service', 'string:replace']],
  ['StartUnitWithFlags', M, `${MI}.StartUnitWithFlags`, ['string:pv-other.service', 'string:replace', 'uint64:0']],
  ...['StopUnit', 'ReloadUnit', 'RestartUnit', 'TryRestartUnit', 'ReloadOrRestartUnit', 'ReloadOrTryRestartUnit'].map(
    (m): Row => [m, M, `${MI}.${m}`, [`string:${TARGET}`, 'string:replace']],
  ),
  ['KillUnit', M, `${MI}.KillUnit`, [`string:${TARGET}`, 'string:all', 'int32:15']],
  ['ResetFailedUnit', M, `${MI}.ResetFailedUnit`, [`string:${TARGET}`]],
  ['ResetFailed', M, `${MI}.ResetFailed`, []],
  ['ClearJobs', M, `${MI}.ClearJobs`, []],
  ['CancelJob (no such job)', M, `${MI}.CancelJob`, ['uint32:99999']],
  ['Reload (daemon-reload)', M, `${MI}.Reload`, []],
  ['GetUnit', M, `${MI}.GetUnit`, [`string:${TARGET}`]],
  ['LoadUnit', M, `${MI}.LoadUnit`, ['string:pv-other.service']],
  ['ListUnits', M, `${MI}.ListUnits`, []],
  ['ListUnitsFiltered', M, `${MI}.ListUnitsFiltered`, ['array:string:active']],
  ['ListUnitsByPatterns', M, `${MI}.ListUnitsByPatterns`, ['array:string:active', 'array:string:pv-*']],
  ['ListUnitsByNames', M, `${MI}.ListUnitsByNames`, [`array:string:${TARGET}`]],
  ['GetUnitByPID (1)', M, `${MI}.GetUnitByPID`, ['uint32:1']],
  ['GetUnitByInvocationID (unknown)', M, `${MI}.GetUnitByInvocationID`, [`array:byte:${Array(16).fill('1').join(',')}`]],
  ['GetUnitByControlGroup (unknown)', M, `${MI}.GetUnitByControlGroup`, ['string:/no/such/group']],
  ['ListJobs', M, `${MI}.ListJobs`, []],
  ['GetUnitProcesses', M, `${MI}.GetUnitProcesses`, [`string:${TARGET}`]],
  ['Subscribe', M, `${MI}.Subscribe`, []],
  ['Unsubscribe', M, `${MI}.Unsubscribe`, []],
  ...['Start', 'Stop', 'Reload', 'Restart', 'TryRestart', 'ReloadOrRestart', 'ReloadOrTryRestart'].map((m): Row => [`Unit.${m}`, TARGET_PATH, `${UI}.${m}`, ['string:replace']]),
  ['Unit.Kill', TARGET_PATH, `${UI}.Kill`, ['string:all', 'int32:15']],
  ['Unit.ResetFailed', TARGET_PATH, `${UI}.ResetFailed`, []],
  ['Unit.Ref', TARGET_PATH, `${UI}.Ref`, []],
  ['Unit.Unref', TARGET_PATH, `${UI}.Unref`, []],
  ['Service.GetProcesses', TARGET_PATH, `${SI}.GetProcesses`, []],
  ['Service.AttachProcesses', TARGET_PATH, `${SI}.AttachProcesses`, ['string:/', 'array:uint32:1']],
  ['Unit.Freeze', TARGET_PATH, `${UI}.Freeze`, []],
  ['Unit.Thaw', TARGET_PATH, `${UI}.Thaw`, []],
  ['QueueSignalUnit (v254)', M, `${MI}.QueueSignalUnit`, [`string:${TARGET}`, 'string:main', 'int32:40', 'int32:1']],
  ['Unit.QueueSignal (v254)', TARGET_PATH, `${UI}.QueueSignal`, ['string:main', 'int32:40', 'int32:1']],
  ['GetJob (no such job)', M, `${MI}.GetJob`, ['uint32:99999']],
  ['GetJobAfter (no such job)', M, `${MI}.GetJobAfter`, ['uint32:99999']],
  ['GetJobBefore (no such job)', M, `${MI}.GetJobBefore`, ['uint32:99999']],
  ['Job.Cancel', JOB, 'org.freedesktop.systemd1.Job.Cancel', []],
  ['Job.GetAfter', JOB, 'org.freedesktop.systemd1.Job.GetAfter', []],
  ['Job.GetBefore', JOB, 'org.freedesktop.systemd1.Job.GetBefore', []],
  ['Properties.Set LogLevel', M, 'org.freedesktop.DBus.Properties.Set', [`string:${MI}`, 'string:LogLevel', 'variant:string:info']],
  ['Properties.Set Version (read-only)', M, 'org.freedesktop.DBus.Properties.Set', [`string:${MI}`, 'string:Version', 'variant:string:1']],
];

/** a side: runs a command (as given, with privileges dropped by the caller's prefix) against its manager's bus */
interface Manager {
  address: string;
  /** the object path of pv-slow.service's queued start job */
  job?: string;
  exec(argv: string[]): Promise<Result>;
  prop(unit: string, name: string): Promise<string>;
  startTarget(): Promise<void>;
  /** queues pv-slow.service's start (it waits in ExecStartPre=) and gives its job's path */
  queueSlowStart(): Promise<string>;
}

let u: UnitdSide;
let oracle: Oracle | null = null;
let dir: string;
let unitdManager: Manager;
let systemdManager: Manager | null = null;

beforeAll(async () => {
  dir = unitDir(UNITS);
  chmodSync(dir, 0o755);
  u = await startUnitdSide(dir);
  chmodSync(u.bus.dir, 0o755); // let nobody reach the socket
  unitdManager = {
    address: u.address,
    exec: (argv) => run(argv[0]!, argv.slice(1), { LC_ALL: 'C' }),
    prop: async (unit, name) => (await u.show(unit, [name]))[name] ?? '',
    startTarget: async () => void (await u.systemctl(['start', TARGET])),
    queueSlowStart: async () => {
      await u.systemctl(['start', '--no-block', 'pv-slow.service']);
      return (await u.busctl(['get-property', DEST, '/org/freedesktop/systemd1/unit/pv_2dslow_2eservice', UI, 'Job'])).stdout.trim().split('"')[1]!;
    },
  };
  if (oracleAvailable()) {
    oracle = await startOracle({ unitDirs: [dir], busForAllUsers: true });
    const o = oracle;
    systemdManager = {
      address: `unix:path=${o.runtimeDir}/bus`,
      exec: (argv) => o.exec(argv, { env: { LC_ALL: 'C' } }),
      prop: async (unit, name) => (await o.systemctl(['show', '-p', name, '--value', unit])).stdout.trim(),
      startTarget: async () => void (await o.systemctl(['start', TARGET])),
      queueSlowStart: async () => {
        await o.systemctl(['start', '--no-block', 'pv-slow.service']);
        return (await o.busctl(['get-property', DEST, '/org/freedesktop/systemd1/unit/pv_2dslow_2eservice', UI, 'Job'])).stdout.trim().split('"')[1]!;
      },
    };
  } else console.warn(`oracle half skipped: ${oracleUnavailableReason()}`);
}, 60_000);

afterAll(async () => {
  await u?.stop();
  await oracle?.stop();
  removeDir(dir);
});

/** dbus-send's answer, reduced to "ok" or "ErrorName: message" */
async function call(m: Manager, as: string[], row: Row): Promise<string> {
  const [, rowPath, method, args] = row;
  const path = rowPath === JOB ? m.job! : rowPath;
  const r = await m.exec([...as, 'dbus-send', `--bus=${m.address}`, '--print-reply', `--dest=${DEST}`, path, method, ...args]);
  if (r.code === 0) return 'ok';
  return r.stderr.trim().replace(/^Error /, '');
}

async function table(m: Manager, as: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const row of ROWS) out[row[0]] = await call(m, as, row);
  return out;
}

describe('privilege', () => {
  it('nobody, with or without CAP_KILL and CAP_SYS_ADMIN, gets what systemd 252 answers for every method, and nothing changes', { timeout: 120_000 }, async () => {
    const expected: Record<string, string> = {};
    const denied = 'org.freedesktop.DBus.Error.AccessDenied: Permission denied';
    for (const [label] of ROWS) expected[label] = denied;
    for (const label of ['GetUnit', 'LoadUnit', 'ListUnits', 'ListUnitsFiltered', 'ListUnitsByPatterns', 'ListUnitsByNames', 'ListJobs', 'GetUnitProcesses', 'Subscribe', 'Service.GetProcesses']) {
      expected[label] = 'ok';
    }
    // lookups anyone may make; these find nothing
    expected['GetUnitByPID (1)'] = 'org.freedesktop.systemd1.NoUnitForPID: PID 1 does not belong to any loaded unit.';
    expected['GetUnitByInvocationID (unknown)'] = 'org.freedesktop.systemd1.NoUnitForInvocationID: No unit with the specified invocation ID 01010101010101010101010101010101 known.';
    expected['GetUnitByControlGroup (unknown)'] = "org.freedesktop.systemd1.NoSuchUnit: Control group '/no/such/group' is not valid or not managed by this instance";
    // a connection of its own for each call: never subscribed
    expected.Unsubscribe = 'org.freedesktop.systemd1.NotSubscribed: Client is not subscribed.';
    expected['CancelJob (no such job)'] = 'org.freedesktop.systemd1.NoSuchJob: Job 99999 does not exist.';
    expected['Unit.Unref'] = 'org.freedesktop.systemd1.NotReferenced: Unit has not been referenced yet.';
    // no polkit check of its own: the unit's delegation is asked first
    expected['Service.AttachProcesses'] = 'org.freedesktop.DBus.Error.InvalidArgs: Process migration not available on non-delegated units.';
    expected['Properties.Set LogLevel'] = `org.freedesktop.DBus.Error.AccessDenied: Access to ${MI}.LogLevel() not permitted.`;
    expected['Properties.Set Version (read-only)'] = "org.freedesktop.DBus.Error.PropertyReadOnly: Property 'Version' is not writable.";

    expected['GetJob (no such job)'] = 'org.freedesktop.systemd1.NoSuchJob: Job 99999 does not exist.';
    expected['GetJobAfter (no such job)'] = expected['GetJob (no such job)'];
    expected['GetJobBefore (no such job)'] = expected['GetJob (no such job)'];
    expected['Job.GetAfter'] = 'ok';
    expected['Job.GetBefore'] = 'ok';

    for (const m of [unitdManager, systemdManager]) {
      if (!m) continue;
      const side = m === unitdManager ? 'unitd' : 'systemd';
      m.job = await m.queueSlowStart();
      await m.startTarget();
      const mainPid = await m.prop(TARGET, 'MainPID');
      const plain = await table(m, NOBODY);
      const withCaps = await table(m, NOBODY_WITH_CAPS);
      const want = { ...expected };
      // sd-bus guards a writable property itself, except on a user bus (sd_bus_open_user() marks
      // it trusted: "no per-method access control on the user bus"); unitd answers as the system
      // manager does, whose bus is not trusted (bus-objects.c check_access)
      if (side === 'systemd') want['Properties.Set LogLevel'] = 'ok';
      // 252 has no queued signals (v254); unitd serves them with v254's checks
      if (side === 'systemd') {
        want['QueueSignalUnit (v254)'] = `org.freedesktop.DBus.Error.UnknownMethod: Unknown method QueueSignalUnit or interface ${MI}.`;
        want['Unit.QueueSignal (v254)'] = `org.freedesktop.DBus.Error.UnknownMethod: Unknown method QueueSignal or interface ${UI}.`;
      }
      expect({ side, plain, withCaps }).toEqual({ side, plain: want, withCaps: want });
      // nothing changed: the target runs with the same main process, the other unit never started
      expect(await m.prop(TARGET, 'MainPID')).toBe(mainPid);
      expect(await m.prop(TARGET, 'ActiveState')).toBe('active');
      expect(await m.prop('pv-other.service', 'ActiveState')).toBe('inactive');
      expect(await m.prop('pv-slow.service', 'Job')).not.toBe('0');
    }
  });

  it('the table covers every method of the interfaces unitd serves', () => {
    const called = new Set(ROWS.map(([, , method]) => method));
    const served = [...loadInterfaceSpecs().values()]
      .filter((spec) => spec.name.startsWith('org.freedesktop.systemd1.'))
      .flatMap((spec) => [...spec.methods.keys()].map((m) => `${spec.name}.${m}`));
    expect(served.filter((m) => !called.has(m))).toEqual([]);
  });

  it('root may: daemon-reload, reset-failed, kill, Ref/Unref, and the same on both sides', async () => {
    const rows = ROWS.filter(([l]) => ['Reload (daemon-reload)', 'ResetFailedUnit', 'ResetFailed', 'ClearJobs', 'Unit.ResetFailed', 'Unit.Ref', 'Unit.Unref', 'GetUnit'].includes(l));
    rows.push(['KillUnit SIGCONT', M, `${MI}.KillUnit`, [`string:${TARGET}`, 'string:all', 'int32:18']]);
    const answers = async (m: Manager): Promise<Record<string, string>> => {
      await m.startTarget();
      const out: Record<string, string> = {};
      for (const row of rows) out[row[0]] = await call(m, [], row);
      return out;
    };
    const unitd = await answers(unitdManager);
    const expected = Object.fromEntries(rows.map(([l]) => [l, 'ok']));
    // each dbus-send is a connection of its own, and a reference ends with its connection
    expected['Unit.Unref'] = 'org.freedesktop.systemd1.NotReferenced: Unit has not been referenced yet.';
    expect(unitd).toEqual(expected);
    if (systemdManager) expect(unitd).toEqual(await answers(systemdManager));
  });
});

describe('the setuid race', () => {
  it('nobody sending KillUnit/StopUnit then exec-ing a setuid-root program that inherits the socket never gets through', { timeout: 120_000 }, async () => {
    // a real setuid-root program: a copy of sleep, owned by root, mode 4755, reachable by nobody
    const dirForSetuid = mkdtempSync(join(tmpdir(), 'unitd-setuid-'));
    try {
      chmodSync(dirForSetuid, 0o755);
      const program = join(dirForSetuid, 'sleep');
      copyFileSync('/bin/sleep', program);
      chmodSync(program, 0o4755);
      // setuid programs do become root here when nobody runs them (else the test proves nothing):
      // a setuid copy of id, from the same directory, says euid 0
      const id = join(dirForSetuid, 'id');
      copyFileSync('/usr/bin/id', id);
      chmodSync(id, 0o4755);
      const euid = spawnSync(NOBODY[0]!, [...NOBODY.slice(1), id, '-u'], { encoding: 'utf8' });
      expect(euid.stdout.trim()).toBe('0');

      for (const m of [unitdManager, systemdManager]) {
        if (!m) continue;
        const socket = m.address.replace(/^unix:path=/, '');
        let through = 0;
        for (let i = 0; i < 10; i++) {
          await m.startTarget();
          const before = await m.prop(TARGET, 'MainPID');
          const attack =
            i % 2 === 0
              ? [DEST, M, MI, 'KillUnit', 'ssi', TARGET, 'all', '9']
              : [DEST, M, MI, 'StopUnit', 'ss', TARGET, 'replace'];
          const r = await m.exec([...NOBODY, PYTHON, RACE, socket, program, ...attack]);
          expect(r.code, r.stderr).toBe(0);
          await sleep(300);
          const after = `${await m.prop(TARGET, 'ActiveState')}/${await m.prop(TARGET, 'MainPID')}`;
          if (after !== `active/${before}`) through++;
        }
        expect({ side: m === unitdManager ? 'unitd' : 'systemd', through }).toEqual({ side: m === unitdManager ? 'unitd' : 'systemd', through: 0 });
      }
    } finally {
      rmSync(dirForSetuid, { recursive: true, force: true });
    }
  });
});
