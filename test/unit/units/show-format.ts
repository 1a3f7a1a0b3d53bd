// `systemctl show` formatting of LoadedUnit fields, for comparing the store with captures of real
// systemd 252 (test/fixtures/oracle/lib-systemd-system.json, test/fixtures/store/systemd-252-show.json).
import { USEC_INFINITY, type ExecCommand, type ExitStatusSet, type LoadedUnit } from '../../../src/units/types.js';
import { signalName } from '../../../src/units/values.js';

/** format_timespan(t, 0), as `systemctl show` prints *USec properties. */
export function formatTimespan(usec: bigint): string {
  if (usec === USEC_INFINITY) return 'infinity';
  if (usec === 0n) return '0';
  const units: [string, bigint][] = [
    ['y', 31_557_600_000_000n],
    ['month', 2_629_800_000_000n],
    ['w', 604_800_000_000n],
    ['d', 86_400_000_000n],
    ['h', 3_600_000_000n],
    ['min', 60_000_000n],
    ['s', 1_000_000n],
    ['ms', 1_000n],
    ['us', 1n],
  ];
  const parts: string[] = [];
  let t = usec;
  for (const [suffix, size] of units) {
    if (t <= 0n) break;
    if (t < size) continue;
    const a = t / size;
    const b = t % size;
    if (t < 60_000_000n && b > 0n) {
      // below a minute a remainder is written as a fraction: 1.5s, 2.25ms
      const digits = String(size).length - 1;
      const frac = String(b).padStart(digits, '0').replace(/0+$/, '');
      parts.push(`${a}.${frac}${suffix}`);
      break;
    }
    parts.push(`${a}${suffix}`);
    t = b;
  }
  return parts.join(' ');
}

export function formatExec(c: ExecCommand): string {
  return (
    `{ path=${c.path} ; argv[]=${c.argv.join(' ')} ; ignore_errors=${c.ignoreFailure ? 'yes' : 'no'} ; ` +
    'start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }'
  );
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** shell_maybe_quote(): strv elements with shell-special characters are double-quoted */
function shellMaybeQuote(s: string): string {
  if (!/[\s"\\`$*?\['()<>|&;!]/.test(s)) return s;
  return `"${s.replace(/["\\`$]/g, (c) => `\\${c}`)}"`;
}

const strv = (l: readonly string[]): string => l.map(shellMaybeQuote).join(' ');

/** exit statuses, then signal names without "SIG" */
function statusSet(set: ExitStatusSet): string {
  return [...set.statuses.map(String), ...set.signals.map((n) => signalName(n).replace(/^SIG/, ''))].join(' ');
}

export type Shown = Record<string, string | string[]>;

/**
 * The properties as `systemctl show` prints them; Exec* are one string per command (systemctl
 * prints a line per command, and nothing for an empty list).
 */
export function show(u: LoadedUnit): Shown {
  const p: Shown = {
    Id: u.id,
    Names: strv(u.names),
    LoadState: u.loadState,
    LoadError: u.loadError ? `${u.loadError.name} "${u.loadError.message}"` : '',
    FragmentPath: u.fragmentPath,
    DropInPaths: strv(u.dropInPaths),
    UnitFileState: u.unitFileState,
    Description: u.unit.description || u.id,
    Documentation: strv(u.unit.documentation),
    RefuseManualStop: yesNo(u.unit.refuseManualStop),
    DefaultDependencies: yesNo(u.unit.defaultDependencies),
    OnFailureJobMode: u.unit.onFailureJobMode,
    JobTimeoutUSec: formatTimespan(u.unit.jobTimeoutUSec),
    StartLimitIntervalUSec: formatTimespan(u.unit.startLimitIntervalUSec),
    StartLimitBurst: String(u.unit.startLimitBurst),
    SuccessAction: u.unit.successAction,
    FailureAction: u.unit.failureAction,
    StartLimitAction: u.unit.startLimitAction,
    RefuseManualStart: yesNo(u.unit.refuseManualStart),
    StopWhenUnneeded: yesNo(u.unit.stopWhenUnneeded),
    AllowIsolate: yesNo(u.unit.allowIsolate),
    IgnoreOnIsolate: yesNo(u.unit.ignoreOnIsolate),
    CollectMode: u.unit.collectMode,
    OnSuccessJobMode: u.unit.onSuccessJobMode,
    JobRunningTimeoutUSec: formatTimespan(u.unit.jobRunningTimeoutUSec),
    SourcePath: u.sourcePath,
  };
  const svc = u.service;
  if (svc) {
    p['Type'] = svc.type;
    p['TimeoutStartUSec'] = formatTimespan(svc.timeoutStartUSec);
    p['TimeoutStopUSec'] = formatTimespan(svc.timeoutStopUSec);
    p['TimeoutAbortUSec'] = formatTimespan(svc.timeoutAbortUSec ?? svc.timeoutStopUSec);
    p['RemainAfterExit'] = yesNo(svc.remainAfterExit);
    p['Restart'] = svc.restart;
    p['RestartUSec'] = formatTimespan(svc.restartUSec);
    p['NotifyAccess'] = svc.notifyAccess;
    p['PIDFile'] = svc.pidFile;
    p['BusName'] = svc.busName;
    p['User'] = svc.user;
    p['Group'] = svc.group;
    p['WorkingDirectory'] = svc.workingDirectory;
    p['Environment'] = strv(svc.environment);
    p['EnvironmentFiles'] = svc.environmentFiles.map((f) =>
      f.startsWith('-') ? `${f.slice(1)} (ignore_errors=yes)` : `${f} (ignore_errors=no)`,
    );
    p['OOMPolicy'] = svc.oomPolicy;
    p['ExitType'] = svc.exitType;
    p['GuessMainPID'] = yesNo(svc.guessMainPID);
    p['RuntimeMaxUSec'] = formatTimespan(svc.runtimeMaxUSec);
    p['TimeoutStartFailureMode'] = svc.timeoutStartFailureMode;
    p['TimeoutStopFailureMode'] = svc.timeoutStopFailureMode;
    p['RestartForceExitStatus'] = statusSet(svc.restartForceExitStatus);
    p['SuccessExitStatus'] = statusSet(svc.successExitStatus);
    p['RestartPreventExitStatus'] = statusSet(svc.restartPreventExitStatus);
    for (const [kind, commands] of Object.entries(svc.exec)) {
      if (commands.length > 0) p[kind] = commands.map(formatExec);
    }
  }
  if (u.kill) {
    p['KillMode'] = u.kill.killMode;
    p['KillSignal'] = String(u.kill.killSignal);
    p['RestartKillSignal'] = String(u.kill.restartKillSignal || u.kill.killSignal);
    p['FinalKillSignal'] = String(u.kill.finalKillSignal);
    p['SendSIGKILL'] = yesNo(u.kill.sendSIGKILL);
    p['SendSIGHUP'] = yesNo(u.kill.sendSIGHUP);
    p['WatchdogSignal'] = String(u.kill.watchdogSignal);
  }
  return p;
}
