// Starting a unit's process: placed in its cgroup BEFORE it execs, privileges dropped after that,
// exact argv (argv[0] included), exact environment, stdout/stderr split into lines.
//
// Node cannot run code in the child between fork and exec, so the child first runs a tiny POSIX sh
// step (as root): write its own PID ($$ — the PID the real program will have) into cgroup.procs,
// cd, fix PWD, then exec the rest of its arguments:
//     [setpriv --reuid --regid --init-groups --]  [perl argv0-trick]  path argv[1..]
// - setpriv (util-linux) drops to User=/Group= after the cgroup write (an unprivileged process could
//   not move itself into a root-owned cgroup).
// - `exec -a` is not POSIX sh; when argv[0] differs from the path, perl's `exec {path} LIST` sets it
//   without touching the environment (bash `exec -a` is the fallback; bash adds SHLVL/_).
// - dash exports PWD (and OLDPWD after cd) of its own; the step unsets them, or sets them to the
//   values the caller asked for, so the program sees exactly req.env.
// - IgnoreSIGPIPE=yes: `trap "" PIPE` before the exec; an ignored signal stays ignored in the new
//   program. RLIMIT_NOFILE is set with `ulimit` (nofile-limit.ts says which values).
// Exit codes of the step follow systemd's: 205 (limits), 200 (chdir), 219 (cgroup), 127/126 from a failed exec.

import fs from 'node:fs';
import type { ExitInfo, SpawnRequest, SpawnedProcess } from './types.js';
import { recordStartTime, spawnRegistered } from './spawn-registry.js';
import { readStat } from './proc-stat.js';
import { exitInfoFromNode } from './reaper.js';
import { NO_NOFILE_STEPS, nofileStepsFor } from './nofile-limit.js';
import { readBoundedFile } from '../util/bounded-read.js';

const STEP = [
  'if [ -n "$1" ]; then echo $$ > "$1/cgroup.procs" || exit 219; fi',
  'if [ -n "$2" ]; then cd -- "$2" || exit 200; fi',
  'if [ "$3" = 1 ]; then PWD=$4; export PWD; else unset PWD; fi',
  'if [ "$5" = 1 ]; then OLDPWD=$6; export OLDPWD; else unset OLDPWD; fi',
  // an ignored signal stays ignored across exec: the program starts with SIGPIPE ignored
  'if [ "$7" = 1 ]; then trap "" PIPE; fi',
  // RLIMIT_NOFILE in the order that never has soft above hard; 205 is systemd's EXIT_LIMITS
  'if [ -n "$8" ]; then ulimit -S -n "$8" || exit 205; fi',
  'if [ -n "$9" ] && ! ulimit -H -n "$9" 2>/dev/null; then ulimit -S -n "${11}" || exit 205;',
  'elif [ -n "${10}" ]; then ulimit -S -n "${10}" || exit 205; fi',
  'shift 11',
  'exec "$@"',
].join('\n');

const PERL_ARGV0 = 'my $p = shift; exec {$p} @ARGV or exit 127;';
const BASH_ARGV0 = 'exec -a "$0" "$@"';

/**
 * Whether a command line (/proc/PID/cmdline) is one of launch's own steps (the cgroup/cwd shell
 * step, or the perl/bash argv[0] wrapper) rather than the command they exec in the end. Their
 * command lines end with the final command, so they look like an interpreter running it.
 */
export function isLaunchStep(cmdline: readonly string[]): boolean {
  return (cmdline[1] === '-c' && (cmdline[2] === STEP || cmdline[2] === BASH_ARGV0)) || (cmdline[1] === '-e' && cmdline[2] === PERL_ARGV0);
}

function which(candidates: string[]): string | null {
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}

let tools: { sh: string; setpriv: string | null; perl: string | null; bash: string | null } | undefined;
function getTools(): NonNullable<typeof tools> {
  tools ??= {
    sh: which(['/bin/sh', '/usr/bin/sh'])!,
    setpriv: which(['/usr/bin/setpriv', '/bin/setpriv']),
    perl: which(['/usr/bin/perl', '/bin/perl']),
    bash: which(['/bin/bash', '/usr/bin/bash']),
  };
  return tools;
}

function codedError(message: string, code: string): Error & { code: string } {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  return e;
}

/**
 * The entry of /etc/passwd or /etc/group whose field `field` is `value`, split into its fields;
 * null when there is none or the file cannot be read. The file is read bounded, a regular file only
 * (readBoundedFile): a FIFO or a device put there must not stall the daemon.
 */
function lookupDb(file: string, field: number, value: string): string[] | null {
  let text: string;
  try {
    const read = readBoundedFile(file);
    if (read.kind !== 'regular') return null;
    text = read.data.toString('utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[field] === value) return f;
  }
  return null;
}

/** User=/Group= → numeric ids (names from /etc/passwd and /etc/group; no NSS) */
export function resolveCredentials(user?: string, group?: string): { uid?: number; gid?: number } {
  let uid: number | undefined;
  let gid: number | undefined;
  if (user !== undefined && user !== '') {
    if (/^\d+$/.test(user)) {
      uid = Number(user);
      const pw = lookupDb('/etc/passwd', 2, user);
      if (pw) gid = Number(pw[3]);
    } else {
      const pw = lookupDb('/etc/passwd', 0, user);
      if (!pw) throw codedError(`unknown user ${user}`, 'EUSER');
      uid = Number(pw[2]);
      gid = Number(pw[3]);
    }
  }
  if (group !== undefined && group !== '') {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const gr = lookupDb('/etc/group', 0, group);
      if (!gr) throw codedError(`unknown group ${group}`, 'EGROUP');
      gid = Number(gr[2]);
    }
  }
  if (uid !== undefined && gid === undefined) gid = uid;
  return { uid, gid };
}

/** the argv that runs after the cgroup step */
function finalCommand(req: SpawnRequest): string[] {
  const t = getTools();
  const cmd: string[] = [];
  const { uid, gid } = resolveCredentials(req.user, req.group);
  if (uid !== undefined || gid !== undefined) {
    if (!t.setpriv) throw codedError('setpriv(1) is needed for User=/Group=', 'ENOENT');
    cmd.push(t.setpriv);
    if (uid !== undefined) cmd.push(`--reuid=${uid}`, `--regid=${gid}`, '--init-groups');
    else cmd.push(`--regid=${gid}`, '--clear-groups');
    cmd.push('--');
  }
  const argv0 = req.argv[0] ?? req.path;
  if (argv0 === req.path) {
    cmd.push(req.path, ...req.argv.slice(1));
  } else if (t.perl) {
    cmd.push(t.perl, '-e', PERL_ARGV0, '--', req.path, ...req.argv);
  } else if (t.bash) {
    cmd.push(t.bash, '-c', BASH_ARGV0, argv0, req.path, ...req.argv.slice(1));
  } else {
    cmd.push(req.path, ...req.argv.slice(1)); // argv[0] cannot be honoured
  }
  return cmd;
}

/** longer lines are cut into pieces of this size (journald's LineMax default is 48K) */
const LINE_MAX = 48 * 1024;

function lineSplitter(emit: (line: string) => void): { push(s: string): void; end(): void } {
  let buf = '';
  return {
    push(s) {
      buf += s;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        emit(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      while (buf.length >= LINE_MAX) {
        emit(buf.slice(0, LINE_MAX));
        buf = buf.slice(LINE_MAX);
      }
    },
    end() {
      if (buf !== '') emit(buf);
      buf = '';
    },
  };
}

export interface LaunchOptions {
  /** the cgroup directory to join before exec (cgroup tracker), or undefined */
  cgroupDir?: string;
  /** added to req.env (the /proc tracker's marker) */
  extraEnv?: Record<string, string>;
}

/** starts the process; throws synchronously (with .code) when it cannot be started at all */
export function launch(req: SpawnRequest, opts: LaunchOptions = {}): SpawnedProcess {
  if (!req.path.startsWith('/')) throw codedError(`not an absolute path: ${req.path}`, 'EINVAL');
  const t = getTools();
  const env = { ...req.env, ...(opts.extraEnv ?? {}) };
  const hasPwd = Object.prototype.hasOwnProperty.call(env, 'PWD');
  const hasOldPwd = Object.prototype.hasOwnProperty.call(env, 'OLDPWD');
  const nofile = req.nofile ? nofileStepsFor(req.nofile) : NO_NOFILE_STEPS;
  const args = [
    '-c',
    STEP,
    'unitd-exec', // $0
    opts.cgroupDir ?? '',
    req.cwd ?? '',
    hasPwd ? '1' : '0',
    hasPwd ? env.PWD! : '',
    hasOldPwd ? '1' : '0',
    hasOldPwd ? env.OLDPWD! : '',
    req.ignoreSigpipe ? '1' : '0',
    nofile.softFirst,
    nofile.hard,
    nofile.softAfter,
    nofile.softIfHardRefused,
    ...finalCommand(req),
  ];
  const out = req.onOutput ? 'pipe' : 'ignore';
  const child = spawnRegistered(t.sh, args, {
    env,
    stdio: ['ignore', out, out],
    detached: true, // setsid(): the unit's process leads its own session, as under systemd
    // cwd is changed inside the step so that a missing directory is an exit status (200), not a
    // spawn error without a PID
  });
  if (child.pid === undefined) {
    let err: Error | undefined;
    child.once('error', (e) => (err = e));
    throw codedError(`cannot spawn ${t.sh}${err ? `: ${err.message}` : ''}`, 'ESPAWN');
  }
  child.on('error', () => {
    /* reported through 'exit' / the thrown error above */
  });
  const pid = child.pid;
  // The child cannot have been reaped yet (we have not returned to the event loop): stat exists.
  const st = readStat(pid);
  const identity = { pid, startTime: st ? st.startTime : 0n };
  if (st) recordStartTime(child, st.startTime);

  if (req.onOutput) {
    const onOutput = req.onOutput;
    for (const stream of ['stdout', 'stderr'] as const) {
      const s = child[stream];
      if (!s) continue;
      s.setEncoding('utf8');
      const split = lineSplitter((line) => onOutput(stream, line));
      s.on('data', (d: string) => split.push(d));
      s.on('end', () => split.end());
      s.on('error', () => split.end());
    }
  }

  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve(exitInfoFromNode(code, signal)));
  });
  return { identity, exited };
}
