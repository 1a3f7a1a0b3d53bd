// The service state machine (systemd's service.c in its essentials): start (ExecStartPre,
// ExecStart per Type=, ExecStartPost), running, reload, the stop pipeline (ExecStop, stop-sigterm,
// stop-sigkill, ExecStopPost, final-sigterm, final-sigkill), Result=, Restart=. It drives the unit's
// states and asks the signal scheduler and the process tracker for the rest. No D-Bus here.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, rmSync } from 'node:fs';
import { readPidFile, type PidFileContent, type PidFileError } from './pid-file.js';
import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import type { ExitInfo, ProcessGroup, ProcessIdentity, ProcessTracker, SpawnedProcess } from '../processes/types.js';
import type { SignalScheduler, KillOperation, KillTargets } from '../signals/signal-scheduler.js';
import type { KillRequest } from '../signals/kill-request.js';
import { USEC_INFINITY, type ExecCommand, type ExecKind, type ServiceSection } from '../units/types.js';
import type { ActiveState, Unit } from '../units/unit.js';
import { signalName } from '../units/values.js';
import { now } from '../util/clock.js';
import { hasExeced } from './exec-detection.js';
import { DEFAULT_PATH, environmentAssignments, environmentFiles, expandArgv } from './exec-environment.js';
import { exitCodeName, failureResult, isCleanExit, type ServiceResult, CLD_EXITED } from './exit-status.js';
import { managerNofileDefault } from '../processes/nofile-limit.js';
import { readStat } from '../processes/proc-stat.js';

export type ServiceState =
  | 'dead'
  | 'start-pre'
  | 'start'
  | 'start-post'
  | 'running'
  | 'exited'
  | 'reload'
  | 'stop'
  | 'stop-sigterm'
  | 'stop-watchdog'
  | 'stop-sigkill'
  | 'stop-post'
  | 'final-sigterm'
  | 'final-watchdog'
  | 'final-sigkill'
  | 'failed'
  | 'auto-restart';

const ACTIVE_STATE: Record<ServiceState, ActiveState> = {
  dead: 'inactive',
  'start-pre': 'activating',
  start: 'activating',
  'start-post': 'activating',
  running: 'active',
  exited: 'active',
  reload: 'reloading',
  stop: 'deactivating',
  'stop-sigterm': 'deactivating',
  'stop-watchdog': 'deactivating',
  'stop-sigkill': 'deactivating',
  'stop-post': 'deactivating',
  'final-sigterm': 'deactivating',
  'final-watchdog': 'deactivating',
  'final-sigkill': 'deactivating',
  failed: 'failed',
  'auto-restart': 'activating',
};

const STOPPING: ReadonlySet<ServiceState> = new Set([
  'stop',
  'stop-sigterm',
  'stop-watchdog',
  'stop-sigkill',
  'stop-post',
  'final-sigterm',
  'final-watchdog',
  'final-sigkill',
]);

type SignalState = 'stop-sigterm' | 'stop-watchdog' | 'stop-sigkill' | 'final-sigterm' | 'final-watchdog' | 'final-sigkill';
const STARTING: ReadonlySet<ServiceState> = new Set(['start-pre', 'start', 'start-post']);

/** The exec-failure status systemd's child reports when the binary cannot be run (203/EXEC). */
const EXIT_EXEC = 203;

export interface ServiceHost {
  tracker: ProcessTracker;
  scheduler: SignalScheduler;
  log: Logger;
  scope: 'system' | 'user';
  /** Restart=: asks for a restart job once RestartSec has passed */
  requestAutoRestart(unit: Unit): void;
  /** the id of the unit a process belongs to (manager_get_unit_by_pid) */
  unitOfPid(pid: number): string | undefined;
  /** what a process is when it is the manager's own (unitd, PID 1, its bus daemon), else null */
  managerProcess(pid: number): string | null;
}

interface Running {
  identity: ProcessIdentity;
  kind: ExecKind;
  index: number;
  /** bumps with every spawn, so a late exit of an older process is not mistaken for this one */
  token: number;
  /** what the process execs in the end (Type=exec waits for it) */
  launched?: { path: string; argv: string[] };
}

/** Exit statuses systemd's child reports when it cannot become the command (exit-status.h). */
const EXIT_GROUP = 216;
const EXIT_USER = 217;

function usecToMs(usec: bigint): number | null {
  if (usec === USEC_INFINITY || usec === 0n) return null;
  return Number(usec / 1000n);
}

function findExecutable(path: string, envPath: string): string | null {
  const candidates = isAbsolute(path) ? [path] : envPath.split(':').map((d) => join(d, path));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}

export class ServiceRuntime {
  state: ServiceState = 'dead';
  /** the state last published (logged, on the bus); differs from `state` while a signal state is entered silently */
  private announced: ServiceState = 'dead';
  private group: ProcessGroup | null = null;
  private main: Running | null = null;
  /** the main PID is known (false for a forking service whose main process could not be found) */
  private mainKnown = false;
  private control: Running | null = null;
  private timer: NodeJS.Timeout | null = null;
  private forbidRestart = false;
  private tokens = 0;
  private emptyWatchToken = 0;
  private pidFileWait: NodeJS.Timeout | null = null;
  private execWait: NodeJS.Timeout | null = null;
  /** the last run ended without an automatic restart: the next start resets NRestarts */
  private flushRestarts = false;
  /** the start rate limit's recent start times (lost with the unit object when it is collected, as in systemd) */
  private readonly startLimit: { times: number[] } = { times: [] };

  constructor(
    readonly unit: Unit,
    private readonly host: ServiceHost,
  ) {}

  private get cfg(): ServiceSection {
    const s = this.unit.config.service;
    if (!s) throw new Error(`${this.unit.id} is not a service`);
    return s;
  }

  private get log(): Logger {
    return this.host.log;
  }

  // ---- state -----------------------------------------------------------------------------

  private setState(state: ServiceState): void {
    const old = this.announced;
    this.state = state;
    this.announced = state;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (state === 'dead' || state === 'failed' || state === 'running' || state === 'exited') this.clearPidFileWait();
    if (state !== 'start' && this.execWait) {
      clearTimeout(this.execWait);
      this.execWait = null;
    }
    this.unit.mainPID = this.main?.identity.pid ?? 0;
    this.unit.controlPID = this.control?.identity.pid ?? 0;
    if (old !== state) {
      this.log.info({ unit: this.unit.id, activeState: ACTIVE_STATE[state], subState: state, result: this.unit.result }, 'unit state changed');
    }
    this.unit.setState(ACTIVE_STATE[state], state);
    this.unit.changed();
  }

  private armTimer(usec: bigint, onExpiry: () => void): void {
    const ms = usecToMs(usec);
    if (ms === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      onExpiry();
    }, ms);
  }

  private setResult(f: ServiceResult): void {
    if (this.unit.result === 'success') this.unit.result = f;
  }

  private get mainGood(): boolean {
    return this.main !== null;
  }

  private get controlGood(): boolean {
    return this.control !== null;
  }

  /** The processes a kill reaches right now. */
  targets(): KillTargets {
    return {
      unitId: this.unit.id,
      main: this.main?.identity ?? this.alienMain,
      control: this.control?.identity ?? null,
      group: this.group,
    };
  }

  /** A main process found by PID file or guess that we did not spawn. */
  private alienMain: ProcessIdentity | null = null;

  // ---- processes ---------------------------------------------------------------------------

  private ensureGroup(): ProcessGroup {
    if (!this.group) {
      this.group = this.host.tracker.group(this.unit.id);
      this.unit.controlGroup = this.group.path;
    }
    return this.group;
  }

  private watchGroupEmpty(): void {
    if (!this.group) return;
    const token = ++this.emptyWatchToken;
    const group = this.group;
    this.host.tracker.whenEmpty(group).then(
      () => {
        if (token !== this.emptyWatchToken || this.group !== group) return;
        this.onGroupEmpty();
      },
      () => undefined,
    );
  }

  private environment(kind: ExecKind): Record<string, string> {
    const s = this.cfg;
    const env: Record<string, string> = { PATH: DEFAULT_PATH };
    if (process.env.LANG) env.LANG = process.env.LANG;
    if (this.host.scope === 'user') {
      for (const k of ['HOME', 'USER', 'LOGNAME', 'SHELL', 'XDG_RUNTIME_DIR', 'DBUS_SESSION_BUS_ADDRESS']) {
        const v = process.env[k];
        if (v) env[k] = v;
      }
      env.MANAGERPID = String(process.pid);
    }
    if (this.unit.invocationId.length === 16) env.INVOCATION_ID = this.unit.invocationId.toString('hex');
    Object.assign(env, environmentAssignments(s.environment));
    Object.assign(env, environmentFiles(s.environmentFiles));
    const mainPid = this.main?.identity.pid ?? this.alienMain?.pid ?? 0;
    if (mainPid > 0 && kind !== 'ExecStart') env.MAINPID = String(mainPid);
    if (kind === 'ExecStop' || kind === 'ExecStopPost') {
      env.SERVICE_RESULT = this.unit.result;
      const m = this.unit.execMain;
      if (m.pid > 0 && m.exit.realtime > 0n) {
        env.EXIT_CODE = exitCodeName(m.code);
        env.EXIT_STATUS = m.code === CLD_EXITED ? String(m.status) : signalName(m.status).replace(/^SIG/, '');
      }
    }
    return env;
  }

  /**
   * Starts one command of an Exec*= list in the unit's group. A command that is not there reports
   * a failed exit (203/EXEC) on the next tick, like a child whose exec failed; null when nothing
   * could be spawned at all (EnvironmentFile= missing...): the caller takes systemd's "resources" path.
   */
  private spawn(kind: ExecKind, index: number, role: 'main' | 'control'): Running | null {
    const cmd: ExecCommand = this.cfg.exec[kind][index]!;
    const group = this.ensureGroup();
    const token = ++this.tokens;
    const started = now();
    let env: Record<string, string>;
    let problem: string | null = null;
    try {
      env = this.environment(kind);
    } catch (err) {
      env = { PATH: DEFAULT_PATH };
      problem = (err as Error).message;
    }
    if (problem !== null) {
      // systemd fails service_spawn() itself (no process): the state's "resources" path
      this.log.warn({ unit: this.unit.id, command: cmd.path, kind, reason: problem }, 'failed to spawn command');
      return null;
    }
    const argv = cmd.noEnvExpand ? cmd.argv : expandArgv(cmd.argv, env);
    const executable = findExecutable(cmd.path, env.PATH ?? DEFAULT_PATH);
    // the command cannot become a process: systemd's child exits with 203/EXEC, 217/USER, 216/GROUP
    const childFailure = (status: number, reason: string): Running => {
      this.log.warn({ unit: this.unit.id, command: cmd.path, reason }, 'failed to execute command');
      const running: Running = { identity: { pid: 0, startTime: 0n }, kind, index, token };
      this.unit.execStatus.set(cmd, { pid: 0, start: started, exit: now(), code: CLD_EXITED, status });
      if (role === 'main') this.unit.execMain = { pid: 0, start: started, exit: { realtime: 0n, monotonic: 0n }, code: 0, status: 0 };
      setImmediate(() => this.onExit(role, token, { code: 1, status }));
      return running;
    };
    if (!executable) return childFailure(EXIT_EXEC, 'not found or not executable');
    let proc: SpawnedProcess;
    try {
      proc = this.host.tracker.spawn(group, {
        path: executable,
        argv,
        env,
        cwd: this.workingDirectory(),
        user: this.cfg.user || undefined,
        group: this.cfg.group || undefined,
        ignoreSigpipe: this.cfg.ignoreSigpipe,
        nofile: this.cfg.limitNOFILE ?? managerNofileDefault(this.host.scope),
        onOutput: (stream, line) => this.log.info({ unit: this.unit.id, stream, pid: proc.identity.pid }, line),
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EUSER') return childFailure(EXIT_USER, (err as Error).message);
      if (code === 'EGROUP') return childFailure(EXIT_GROUP, (err as Error).message);
      this.log.warn({ unit: this.unit.id, command: cmd.path, kind, reason: (err as Error).message }, 'failed to spawn command');
      return null;
    }
    this.unit.execStatus.set(cmd, { pid: proc.identity.pid, start: started, exit: { realtime: 0n, monotonic: 0n }, code: 0, status: 0 });
    if (role === 'main') this.unit.execMain = { pid: proc.identity.pid, start: started, exit: { realtime: 0n, monotonic: 0n }, code: 0, status: 0 };
    proc.exited.then(
      (info) => {
        this.unit.execStatus.set(cmd, { pid: proc.identity.pid, start: started, exit: now(), code: info.code, status: info.status });
        this.onExit(role, token, info);
      },
      () => this.onExit(role, token, { code: 1, status: 1 }),
    );
    this.log.debug({ unit: this.unit.id, pid: proc.identity.pid, command: argv, role, kind }, 'process started');
    this.watchGroupEmpty();
    return { identity: proc.identity, kind, index, token, launched: { path: executable, argv } };
  }

  /** WorkingDirectory= in its D-Bus form: "!" = a missing directory is fine, "~" = the home directory. */
  private workingDirectory(): string {
    let dir = this.cfg.workingDirectory;
    const optional = dir.startsWith('!') || dir.startsWith('-');
    if (optional) dir = dir.slice(1);
    if (dir === '~') dir = process.env.HOME ?? '/';
    if (dir === '') return this.host.scope === 'system' ? '/' : (process.env.HOME ?? '/');
    if (optional && !existsSync(dir)) return '/';
    return dir;
  }

  /** false when the command could not be spawned (no process, Result=resources for the caller) */
  private runControl(kind: ExecKind, index = 0): boolean {
    this.control = this.spawn(kind, index, 'control');
    return this.control !== null;
  }

  private runMain(index = 0): boolean {
    this.main = this.spawn('ExecStart', index, 'main');
    this.mainKnown = this.main !== null;
    this.alienMain = null;
    return this.main !== null;
  }

  private onExit(role: 'main' | 'control', token: number, info: ExitInfo): void {
    // The watch armed at spawn may have seen the cgroup empty before the new process joined it;
    // when a process of ours ends and others are left, watch for them anew.
    if (this.group && !this.host.tracker.isEmpty(this.group)) this.watchGroupEmpty();
    if (role === 'main') {
      if (this.main?.token !== token) return;
      this.onMainExit(info);
    } else {
      if (this.control?.token !== token) return;
      this.onControlExit(info);
    }
  }

  // ---- public operations --------------------------------------------------------------------

  /** unit_start: 'already' when active, 'again' when it must wait (stopping), else it starts. */
  start(): 'already' | 'again' | 'starting' | 'failed' {
    const st = this.state;
    if (st === 'running' || st === 'exited' || st === 'reload') return 'already';
    // unit_start() asks can_start() (the start limit) before the service says whether it can start
    // now: a start while the unit is stopping or starting uses up the limit too, and one refused by
    // it fails the unit at once, in whatever state it was (systemd 252: service_can_start ->
    // service_enter_dead(START_LIMIT_HIT), even with processes still to stop)
    if (this.startLimitHit()) {
      // service_can_start(): service_enter_dead(START_LIMIT_HIT), which keeps an earlier failure's
      // Result and lets go of the main and control processes (they are left running)
      this.log.warn({ unit: this.unit.id }, 'start request repeated too quickly');
      this.enterDead('start-limit-hit', false);
      return 'failed';
    }
    if (STOPPING.has(st)) return 'again';
    if (STARTING.has(st)) return 'starting';
    if (st === 'auto-restart') {
      // asked to start while waiting to restart: do it now
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushRestarts) {
      // the last run did not end in a restart: a new start counts from zero (NRestarts=)
      this.unit.nRestarts = 0;
      this.flushRestarts = false;
    }
    this.unit.invocationId = randomBytes(16);
    this.unit.result = 'success';
    this.unit.reloadResult = 'success';
    this.unit.statusText = '';
    this.mainKnown = false;
    this.alienMain = null;
    this.forbidRestart = false;
    this.unit.execStatus.clear();
    this.unit.execMain = { pid: 0, start: { realtime: 0n, monotonic: 0n }, exit: { realtime: 0n, monotonic: 0n }, code: 0, status: 0 };
    this.unit.timestamps.condition = now();
    this.unit.timestamps.assert = this.unit.timestamps.condition;
    this.unit.conditionResult = true;
    this.unit.assertResult = true;
    this.enterStartPre();
    return 'starting';
  }

  private startLimitHit(): boolean {
    const u = this.unit.config.unit;
    const interval = usecToMs(u.startLimitIntervalUSec);
    if (interval === null || u.startLimitBurst === 0) return false;
    const t = Date.now();
    this.startLimit.times = this.startLimit.times.filter((x) => t - x < interval);
    if (this.startLimit.times.length >= u.startLimitBurst) return true;
    this.startLimit.times.push(t);
    return false;
  }

  /** unit_stop: 'already' when inactive or failed. */
  async stop(): Promise<'already' | 'stopping'> {
    const st = this.state;
    if (st === 'dead' || st === 'failed') return 'already';
    this.forbidRestart = true;
    if (this.group && this.host.tracker.isFrozen(this.group)) await this.host.tracker.thaw(this.group);
    if (STOPPING.has(this.state)) return 'stopping';
    if (this.state === 'auto-restart') {
      this.setState('dead');
      return 'stopping';
    }
    if (STARTING.has(this.state) || this.state === 'reload') {
      await this.enterSignal('stop-sigterm', 'success');
      return 'stopping';
    }
    this.enterStop('success');
    // without ExecStop= the unit is entering stop-sigterm (published only if something was signalled)
    await this.signalling;
    return 'stopping';
  }

  /** Reload: ExecReload with $MAINPID as control process; false when not active. */
  reload(): boolean {
    if (this.state !== 'running' && this.state !== 'exited') return false;
    this.unit.reloadResult = 'success';
    if (this.cfg.exec.ExecReload.length === 0) return false;
    if (!this.runControl('ExecReload')) {
      this.unit.reloadResult = 'resources';
      this.unit.changed();
      return true;
    }
    this.setState('reload');
    this.armTimer(this.cfg.timeoutStartUSec, () => {
      this.log.warn({ unit: this.unit.id }, 'reload timed out');
      if (this.control) this.host.tracker.signal(this.control.identity, 9);
      this.control = null;
      this.unit.reloadResult = 'timeout';
      this.enterRunning('success');
    });
    return true;
  }

  async kill(req: KillRequest): Promise<void> {
    await this.host.scheduler.killForClient(req, this.targets());
  }

  resetFailed(): void {
    this.startLimit.times = [];
    if (this.state === 'failed') {
      this.unit.result = 'success';
      this.setState('dead');
    } else {
      this.unit.result = 'success';
      this.unit.changed();
    }
  }

  // ---- start -------------------------------------------------------------------------------

  private enterStartPre(): void {
    if (this.cfg.exec.ExecStartPre.length === 0) return this.enterStart();
    if (!this.runControl('ExecStartPre')) return this.enterDead('resources', true);
    this.setState('start-pre');
    this.armTimer(this.cfg.timeoutStartUSec, () => this.startTimeout());
  }

  private startTimeout(): void {
    const mode = this.cfg.timeoutStartFailureMode;
    this.log.warn({ unit: this.unit.id, state: this.state, mode }, 'start operation timed out');
    void this.enterSignal(mode === 'abort' ? 'stop-watchdog' : mode === 'kill' ? 'stop-sigkill' : 'stop-sigterm', 'timeout');
  }

  private enterStart(): void {
    const s = this.cfg;
    if (s.exec.ExecStart.length === 0) {
      // a oneshot without ExecStart= (only ExecStop=, say) is started at once
      this.enterStartPost();
      return;
    }
    if (s.type === 'forking') {
      if (!this.runControl('ExecStart')) return void this.enterSignal('stop-sigterm', 'resources');
      this.setState('start');
      this.armTimer(s.timeoutStartUSec, () => this.startTimeout());
      return;
    }
    if (!this.runMain(0)) return void this.enterSignal('stop-sigterm', 'resources');
    if (s.type === 'exec') {
      // active only once the process runs the command itself (systemd learns it from its exec fd)
      this.setState('start');
      this.armTimer(s.timeoutStartUSec, () => this.startTimeout());
      this.awaitExec();
      return;
    }
    if (s.type === 'oneshot') {
      this.setState('start');
      this.armTimer(s.timeoutStartUSec, () => this.startTimeout());
      return;
    }
    // simple, exec, idle, notify and dbus: running once the process is there
    this.enterStartPost();
  }

  /** Type=exec: start-post once the main process has exec'd its command; its exit decides otherwise. */
  private awaitExec(): void {
    const main = this.main;
    if (!main?.launched) return;
    const launched = main.launched;
    const check = (): void => {
      if (this.main !== main || this.state !== 'start') return;
      const r = hasExeced(main.identity.pid, launched);
      if (r === true) return this.enterStartPost();
      if (r === null) return; // gone: the exit handler decides
      this.execWait = setTimeout(check, 5);
    };
    check();
  }

  private enterStartPost(): void {
    if (this.cfg.exec.ExecStartPost.length === 0) return this.enterRunning('success');
    if (!this.runControl('ExecStartPost')) return this.enterStop('resources');
    this.setState('start-post');
    this.armTimer(this.cfg.timeoutStartUSec, () => this.startTimeout());
  }

  private enterRunning(f: ServiceResult): void {
    this.setResult(f);
    this.control = null;
    if (this.unit.result !== 'success') {
      void this.enterSignal('stop-sigterm', f);
    } else if (this.serviceGood()) {
      this.setState('running');
      this.armRuntimeMax();
    } else if (this.cfg.remainAfterExit) {
      this.setState('exited');
    } else {
      this.enterStop('success');
    }
  }

  /**
   * RuntimeMaxSec= (plus a random part of RuntimeRandomizedExtraSec=): counted from when the
   * service became active, so a reload, which comes back to 'running', does not restart it.
   */
  private armRuntimeMax(): void {
    const max = this.cfg.runtimeMaxUSec;
    if (max === USEC_INFINITY) return;
    const extra = this.cfg.runtimeRandomizedExtraUSec;
    const delta = extra > 0n ? BigInt(Math.floor(Math.random() * Number(extra))) : 0n;
    const left = this.unit.timestamps.activeEnter.monotonic + max + delta - now().monotonic;
    this.armTimer(left > 0n ? left : 1n, () => {
      this.log.warn({ unit: this.unit.id }, 'Service reached runtime time limit. Stopping.');
      this.enterStop('timeout');
    });
  }

  /** service_good(): a main process runs, or (main unknown) the group still has processes. */
  private serviceGood(): boolean {
    if (this.main || this.alienMain) return true;
    if (!this.mainKnown && this.group && !this.host.tracker.isEmpty(this.group)) return true;
    if (this.cfg.exitType === 'cgroup' && this.group && !this.host.tracker.isEmpty(this.group)) return true;
    return false;
  }

  /** After a forking ExecStart: the PID file names the main process, else guess it. */
  private findMainAfterFork(): boolean {
    const pidFile = this.cfg.pidFile;
    if (pidFile) return this.loadPidFile(true);
    if (!this.cfg.guessMainPID || !this.group) return true;
    const members = this.host.tracker.pids(this.group).filter((p) => p !== this.control?.identity.pid);
    const memberSet = new Set(members);
    const tops = members.filter((pid) => !memberSet.has(parentOf(pid)));
    if (tops.length === 1) this.adoptMain(tops[0]!);
    return true;
  }

  /**
   * service_load_pid_file(): true when the PID file names an acceptable main process (now the
   * main process). `mayWarn` raises the "not there (yet?)" lines from debug to info, as in 252.
   */
  private loadPidFile(mayWarn: boolean): boolean {
    const path = this.cfg.pidFile;
    const quiet = mayWarn ? 'info' : 'debug';
    let content: PidFileContent;
    try {
      content = readPidFile(path);
    } catch (err) {
      const e = err as PidFileError;
      if (e.stage === 'parse') this.pidFileLog(quiet, `Failed to parse PID from file ${path}: ${e.message}`);
      else this.pidFileLog(quiet, `Can't open PID file ${path} (yet?) after ${this.state}: ${e.message}`);
      return false;
    }
    const pid = content.pid;
    if (this.main?.identity.pid === pid) return true;
    const suitable = this.suitableMainPid(pid, quiet);
    if (suitable === 'refused') return false;
    if (suitable === 'questionable') {
      // a process outside the unit is trusted only on the word of root, through a safe path
      if (content.questionable) {
        this.pidFileLog('error', `Refusing to accept PID outside of service control group, acquired through unsafe symlink chain: ${path}`);
        return false;
      }
      if (content.ownerUid !== 0) {
        this.pidFileLog('error', `New main PID ${pid} does not belong to service, and PID file is not owned by root. Refusing.`);
        return false;
      }
      this.pidFileLog('debug', `New main PID ${pid} does not belong to service, but we'll accept it since PID file is owned by root.`);
    }
    if (this.main) this.pidFileLog('debug', `Main PID changing: ${this.main.identity.pid} -> ${pid}`);
    return this.adoptMain(pid);
  }

  /**
   * service_is_suitable_main_pid(): never the manager or the control process, never a process
   * that is gone or a zombie; one of the unit's own is good, any other is questionable.
   */
  private suitableMainPid(pid: number, level: 'info' | 'debug'): 'good' | 'questionable' | 'refused' {
    const own = this.host.managerProcess(pid);
    if (own !== null) {
      this.pidFileLog(level, `New main PID ${pid} is ${own}, refusing.`);
      return 'refused';
    }
    if (pid === this.control?.identity.pid) {
      this.pidFileLog(level, `New main PID ${pid} is the control process, refusing.`);
      return 'refused';
    }
    const st = readStat(pid);
    if (!st || st.state === 'Z') {
      this.pidFileLog(level, `New main PID ${pid} does not exist or is a zombie.`);
      return 'refused';
    }
    return this.host.unitOfPid(pid) === this.unit.id ? 'good' : 'questionable';
  }

  /** One line per distinct outcome: the PID file is polled while it is awaited. */
  private pidFileLog(level: 'error' | 'info' | 'debug', message: string): void {
    if (message === this.lastPidFileLog) return;
    this.lastPidFileLog = message;
    this.log[level]({ unit: this.unit.id, pidFile: this.cfg.pidFile }, message);
  }

  private lastPidFileLog = '';

  private adoptMain(pid: number): boolean {
    const identity = this.host.tracker.identify(pid);
    if (!identity) return false;
    this.alienMain = identity;
    this.mainKnown = true;
    this.unit.execMain = { pid, start: now(), exit: { realtime: 0n, monotonic: 0n }, code: 0, status: 0 };
    this.log.info({ unit: this.unit.id, pid }, 'main process found');
    const token = ++this.tokens;
    this.main = { identity, kind: 'ExecStart', index: 0, token };
    void this.host.tracker.watchExit(identity).then((info) => this.onExit('main', token, info ?? { code: CLD_EXITED, status: 0 }));
    this.watchGroupEmpty();
    return true;
  }

  private clearPidFileWait(): void {
    if (this.pidFileWait) clearInterval(this.pidFileWait);
    this.pidFileWait = null;
  }

  /** The PID file is not there yet: wait for it while the group has processes (start timeout applies). */
  private demandPidFile(then: () => void, onFailure: () => void): void {
    this.clearPidFileWait();
    this.pidFileWait = setInterval(() => {
      if (this.loadPidFile(false)) {
        this.clearPidFileWait();
        then();
      } else if (!this.group || this.host.tracker.isEmpty(this.group)) {
        this.clearPidFileWait();
        onFailure();
      }
    }, 20);
  }

  // ---- exits --------------------------------------------------------------------------------

  private onMainExit(info: ExitInfo): void {
    this.announceSignalState();
    const s = this.cfg;
    const main = this.main!;
    this.main = null;
    this.alienMain = null;
    this.unit.execMain = { ...this.unit.execMain, exit: now(), code: info.code, status: info.status };
    const clean = isCleanExit(info, s.type === 'oneshot' ? 'command' : 'daemon', s.successExitStatus);
    const f: ServiceResult = clean ? 'success' : failureResult(info);
    this.log.info({ unit: this.unit.id, pid: main.identity.pid, code: exitCodeName(info.code), status: info.code === CLD_EXITED ? info.status : signalName(info.status), result: f }, 'main process exited');
    this.unit.mainPID = 0;

    // a oneshot runs its ExecStart= lines one after another
    if (s.type === 'oneshot' && f === 'success' && this.state === 'start' && main.index + 1 < s.exec.ExecStart.length) {
      if (!this.runMain(main.index + 1)) return this.enterStop('resources');
      this.unit.changed();
      return;
    }
    switch (this.state) {
      case 'start-post':
      case 'reload':
      case 'stop':
        // wait for the control process; its exit decides
        this.setResult(f);
        this.unit.changed();
        return;
      case 'start':
        if (s.type === 'oneshot') {
          if (f === 'success') this.enterStartPost();
          else void this.enterSignal('stop-sigterm', f);
          return;
        }
        this.enterRunning(f);
        return;
      case 'running':
        // ExitType=cgroup: the service runs on while its cgroup has processes; the main process's
        // result is kept for when the cgroup empties (onGroupEmpty)
        if (s.exitType === 'cgroup' && this.group && !this.host.tracker.isEmpty(this.group)) {
          this.setResult(f);
          this.unit.changed();
          return;
        }
        this.enterRunning(f);
        return;
      default:
        if (!this.exitWhileStopping(f, this.controlGood)) this.unit.changed();
    }
  }

  /**
   * The main or the control process ended in a stop state (service_sigchld_event treats both
   * alike): the next step is taken once the other one is gone too. False outside those states.
   */
  private exitWhileStopping(f: ServiceResult, otherRunning: boolean): boolean {
    switch (this.state) {
      case 'stop-sigterm':
      case 'stop-watchdog':
      case 'stop-sigkill':
        if (!otherRunning) this.enterStopPost(f);
        else this.setResult(f);
        return true;
      case 'stop-post':
        if (!otherRunning) void this.enterSignal('final-sigterm', f);
        return true;
      case 'final-sigterm':
      case 'final-watchdog':
      case 'final-sigkill':
        if (!otherRunning) this.enterDead(f, true);
        return true;
      default:
        return false;
    }
  }

  private onControlExit(info: ExitInfo): void {
    this.announceSignalState();
    const control = this.control!;
    const cmd = this.cfg.exec[control.kind][control.index]!;
    this.control = null;
    this.unit.controlPID = 0;
    let f: ServiceResult = isCleanExit(info, 'command') ? 'success' : failureResult(info);
    if (f !== 'success' && cmd.ignoreFailure) f = 'success';
    this.log.info({ unit: this.unit.id, pid: control.identity.pid, command: control.kind, code: exitCodeName(info.code), status: info.code === CLD_EXITED ? info.status : signalName(info.status), result: f }, 'control process exited');

    const list = this.cfg.exec[control.kind];
    if (f === 'success' && control.index + 1 < list.length) {
      if (!this.runControl(control.kind, control.index + 1)) return this.nextControlFailed();
      this.unit.controlPID = this.control!.identity.pid;
      this.unit.changed();
      return;
    }
    switch (this.state) {
      case 'start-pre':
        if (f === 'success') this.enterStart();
        else void this.enterSignal('stop-sigterm', f);
        return;
      case 'start':
        if (this.cfg.type !== 'forking') return;
        if (f !== 'success') return void this.enterSignal('stop-sigterm', f);
        // a PID file may come from ExecStartPost=: not finding it yet is no news then
        if (this.cfg.pidFile && !this.loadPidFile(this.cfg.exec.ExecStartPost.length === 0)) {
          if (this.cfg.exec.ExecStartPost.length > 0) return this.enterStartPost();
          return this.demandPidFile(
            () => this.enterStartPost(),
            () => void this.enterSignal('stop-sigterm', 'protocol'),
          );
        }
        if (!this.cfg.pidFile) this.findMainAfterFork();
        this.enterStartPost();
        return;
      case 'start-post':
        if (f !== 'success') return void this.enterSignal('stop-sigterm', f);
        if (this.cfg.pidFile && !this.main && !this.loadPidFile(true)) {
          return this.demandPidFile(
            () => this.enterRunning('success'),
            () => this.enterStop('protocol'),
          );
        }
        if (!this.cfg.pidFile && this.cfg.type === 'forking' && !this.main) this.findMainAfterFork();
        this.enterRunning('success');
        return;
      case 'reload':
        this.unit.reloadResult = f;
        if (f === 'success' && this.cfg.pidFile) this.loadPidFile(true);
        this.enterRunning('success');
        return;
      case 'stop':
        void this.enterSignal('stop-sigterm', f);
        return;
      default:
        if (!this.exitWhileStopping(f, this.mainGood)) this.unit.changed();
    }
  }

  /** service_run_next_control() could not spawn: where systemd goes from each state. */
  private nextControlFailed(): void {
    switch (this.state) {
      case 'start-pre':
      case 'start-post':
      case 'stop':
        void this.enterSignal('stop-sigterm', 'resources');
        return;
      case 'stop-post':
        this.enterDead('resources', true);
        return;
      case 'reload':
        this.unit.reloadResult = 'resources';
        this.enterRunning('success');
        return;
      default:
        this.enterStop('resources');
    }
  }

  private onGroupEmpty(): void {
    this.announceSignalState();
    if (!this.group || !this.host.tracker.isEmpty(this.group)) return this.watchGroupEmpty();
    switch (this.state) {
      case 'running':
        if (!this.main) this.enterRunning('success');
        return;
      case 'stop-sigterm':
      case 'stop-watchdog':
      case 'stop-sigkill':
        if (!this.mainGood && !this.controlGood) this.enterStopPost('success');
        return;
      case 'stop-post':
      case 'final-sigterm':
      case 'final-watchdog':
      case 'final-sigkill':
        if (!this.mainGood && !this.controlGood) this.enterDead('success', true);
        return;
      default:
        return;
    }
  }

  // ---- stop ---------------------------------------------------------------------------------

  private enterStop(f: ServiceResult): void {
    this.setResult(f);
    if (this.cfg.exec.ExecStop.length === 0) return void this.enterSignal('stop-sigterm', 'success');
    if (!this.runControl('ExecStop')) return void this.enterSignal('stop-sigterm', 'resources');
    this.setState('stop');
    this.armTimer(this.cfg.timeoutStopUSec, () => {
      const mode = this.cfg.timeoutStopFailureMode;
      this.log.warn({ unit: this.unit.id, mode }, 'stopping timed out');
      if (mode === 'abort') void this.enterSignal('stop-watchdog', 'timeout');
      else if (mode === 'kill') {
        if (this.cfg.kill.sendSIGKILL) void this.enterSignal('stop-sigkill', 'timeout');
        else this.enterStopPost('timeout');
      } else void this.enterSignal('stop-sigterm', 'timeout');
    });
  }

  private killOperation(state: ServiceState): KillOperation {
    if (state === 'stop-sigkill' || state === 'final-sigkill') return 'kill';
    if (state === 'stop-watchdog' || state === 'final-watchdog') return 'watchdog';
    if (state === 'stop-sigterm' && this.unit.job?.type === 'restart') return 'restart';
    return 'terminate';
  }

  /** An exit that arrives while a signal state is still being entered was caused by its signals: publish the state first. */
  private announceSignalState(): void {
    if (this.state !== this.announced && STOPPING.has(this.state)) this.setState(this.state);
  }

  /** the latest signal state being entered; stop() waits for it so its job sees where the unit went */
  private signalling: Promise<void> = Promise.resolve();

  private enterSignal(state: SignalState, f: ServiceResult): Promise<void> {
    const p = this.enterSignalNow(state, f);
    this.signalling = p;
    return p;
  }

  private async enterSignalNow(state: SignalState, f: ServiceResult): Promise<void> {
    this.setResult(f);
    const kill = this.cfg.kill;
    // The state is entered before the signals go out, so exits they cause find it, but it is
    // published only once something was signalled: systemd 252 (service_enter_signal) never shows
    // a signal state in which it waits for nothing, it goes straight on to the next one.
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.state = state;
    const wait = await this.host.scheduler.killForStop(this.killOperation(state), kill, this.targets());
    if (this.state !== state) return; // an exit already moved us on
    if (wait) {
      this.setState(state);
      this.watchGroupEmpty();
      const watchdog = state === 'stop-watchdog' || state === 'final-watchdog';
      this.armTimer(watchdog ? (this.cfg.timeoutAbortUSec ?? this.cfg.timeoutStopUSec) : this.cfg.timeoutStopUSec, () => this.signalTimeout(state));
      if (state.startsWith('stop-') && !this.mainGood && !this.controlGood && this.group && this.host.tracker.isEmpty(this.group)) {
        this.enterStopPost('success');
      } else if (state.startsWith('final-') && !this.mainGood && !this.controlGood && this.group && this.host.tracker.isEmpty(this.group)) {
        this.enterDead('success', true);
      }
      return;
    }
    if ((state === 'stop-sigterm' || state === 'stop-watchdog') && kill.sendSIGKILL) return this.enterSignal('stop-sigkill', 'success');
    if (state.startsWith('stop-')) return this.enterStopPost('success');
    if ((state === 'final-sigterm' || state === 'final-watchdog') && kill.sendSIGKILL) return this.enterSignal('final-sigkill', 'success');
    this.enterDead('success', true);
  }

  private signalTimeout(state: ServiceState): void {
    const kill = this.cfg.kill;
    const abort = this.cfg.timeoutStopFailureMode === 'abort';
    switch (state) {
      case 'stop-sigterm':
        if (abort) {
          this.log.warn({ unit: this.unit.id }, 'state stop-sigterm timed out, aborting');
          void this.enterSignal('stop-watchdog', 'timeout');
        } else if (kill.sendSIGKILL) {
          this.log.warn({ unit: this.unit.id }, 'state stop-sigterm timed out, killing');
          void this.enterSignal('stop-sigkill', 'timeout');
        } else {
          this.log.warn({ unit: this.unit.id }, 'state stop-sigterm timed out, skipping SIGKILL');
          this.enterStopPost('timeout');
        }
        return;
      case 'stop-watchdog':
        if (kill.sendSIGKILL) {
          this.log.warn({ unit: this.unit.id }, 'state stop-watchdog timed out, killing');
          void this.enterSignal('stop-sigkill', 'timeout');
        } else {
          this.log.warn({ unit: this.unit.id }, 'state stop-watchdog timed out, skipping SIGKILL');
          this.enterStopPost('timeout');
        }
        return;
      case 'stop-sigkill':
        this.log.warn({ unit: this.unit.id }, 'processes still around after SIGKILL, ignoring');
        this.enterStopPost('timeout');
        return;
      case 'final-sigterm':
        if (abort) {
          this.log.warn({ unit: this.unit.id }, 'state final-sigterm timed out, aborting');
          void this.enterSignal('final-watchdog', 'timeout');
        } else if (kill.sendSIGKILL) {
          this.log.warn({ unit: this.unit.id }, 'state final-sigterm timed out, killing');
          void this.enterSignal('final-sigkill', 'timeout');
        } else {
          this.log.warn({ unit: this.unit.id }, 'state final-sigterm timed out, skipping SIGKILL, entering failed mode');
          this.enterDead('timeout', false);
        }
        return;
      case 'final-watchdog':
        if (kill.sendSIGKILL) {
          this.log.warn({ unit: this.unit.id }, 'state final-watchdog timed out, killing');
          void this.enterSignal('final-sigkill', 'timeout');
        } else {
          this.log.warn({ unit: this.unit.id }, 'state final-watchdog timed out, skipping SIGKILL, entering failed mode');
          this.enterDead('timeout', false);
        }
        return;
      case 'final-sigkill':
        this.log.warn({ unit: this.unit.id }, 'processes still around after final SIGKILL, entering failed mode');
        this.enterDead('timeout', true);
        return;
      default:
        return;
    }
  }

  private enterStopPost(f: ServiceResult): void {
    this.setResult(f);
    this.control = null;
    if (this.cfg.exec.ExecStopPost.length === 0) return void this.enterSignal('final-sigterm', 'success');
    if (!this.runControl('ExecStopPost')) return void this.enterSignal('final-sigterm', 'resources');
    this.setState('stop-post');
    this.armTimer(this.cfg.timeoutStopUSec, () => {
      const mode = this.cfg.timeoutStopFailureMode;
      this.log.warn({ unit: this.unit.id, mode }, 'stop-post timed out');
      if (mode === 'abort') void this.enterSignal('final-watchdog', 'timeout');
      else if (mode === 'kill') {
        if (this.cfg.kill.sendSIGKILL) void this.enterSignal('final-sigkill', 'timeout');
        else this.enterDead('timeout', false);
      } else void this.enterSignal('final-sigterm', 'timeout');
    });
  }

  private enterDead(f: ServiceResult, allowRestart: boolean): void {
    this.setResult(f);
    this.control = null;
    this.main = null;
    this.alienMain = null;
    const result = this.unit.result;
    const restart = allowRestart && !this.forbidRestart && this.shallRestart(result);
    if (this.group && this.host.tracker.remove(this.group)) {
      this.group = null;
      this.unit.controlGroup = '';
    }
    this.emptyWatchToken++;
    if (this.cfg.pidFile) rmSync(this.cfg.pidFile, { force: true });
    this.setState(result === 'success' ? 'dead' : 'failed');
    this.forbidRestart = false;
    if (!restart) this.flushRestarts = true;
    if (restart) {
      this.setState('auto-restart');
      this.armTimer(this.cfg.restartUSec, () => {
        this.unit.nRestarts++;
        this.log.info({ unit: this.unit.id, restarts: this.unit.nRestarts }, 'scheduled restart');
        this.host.requestAutoRestart(this.unit);
      });
    }
  }

  /** Restart= for a result, with RestartPreventExitStatus=/RestartForceExitStatus=. */
  private shallRestart(result: string): boolean {
    const s = this.cfg;
    const m = this.unit.execMain;
    const matches = (set: { statuses: number[]; signals: number[] }) =>
      m.code === CLD_EXITED ? set.statuses.includes(m.status) : m.code !== 0 && set.signals.includes(m.status);
    if (m.code !== 0 && matches(s.restartPreventExitStatus)) return false;
    if (m.code !== 0 && matches(s.restartForceExitStatus)) return true;
    switch (s.restart) {
      case 'always':
        return true;
      case 'on-success':
        return result === 'success';
      case 'on-failure':
        return result !== 'success';
      case 'on-abnormal':
        return ['signal', 'core-dump', 'timeout', 'watchdog'].includes(result);
      case 'on-abort':
        return ['signal', 'core-dump'].includes(result);
      case 'on-watchdog':
        return result === 'watchdog';
      default:
        return false;
    }
  }

  /** In the stop pipeline (a signal state may not be published yet: the unit can still look active). */
  isStopping(): boolean {
    return STOPPING.has(this.state);
  }

  /** The stop that unitd's own shutdown asks for: the same pipeline, no restart. */
  isInactive(): boolean {
    return this.state === 'dead' || this.state === 'failed';
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return 0;
  }
}
