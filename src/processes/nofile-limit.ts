// RLIMIT_NOFILE of a service's processes, as systemd 252 sets it.
//
// Without LimitNOFILE= a service gets the manager's default, made from the limit the manager was
// started with: the soft limit at most 1024 (FD_SETSIZE: select() fails on higher descriptors, so
// only programs that ask get more), and for a system manager a hard limit of at least 512 Ki
// (within the kernel's fs.nr_open). In a container started with nofile=1048576 this keeps
// services from inheriting a soft limit that makes "close every descriptor up to the limit" loops
// slow. A limit the kernel refuses (above nr_open, or a raised hard limit without privilege) is
// replaced by the nearest one it grants, as systemd's setrlimit_closest() does: the launch step
// tries, and falls back when the kernel says no.
import { readFileSync } from 'node:fs';
import { RLIM_INFINITY, type ResourceLimit } from '../units/resource-limit.js';

const FD_SETSIZE = 1024n;
const HIGH_RLIMIT_NOFILE = 512n * 1024n;

function parseLimitValue(s: string): bigint {
  return s === 'unlimited' ? RLIM_INFINITY : BigInt(s);
}

/** RLIMIT_NOFILE of this process (its children start with it), from /proc/self/limits */
export function readOwnNofileLimit(text = readFileSync('/proc/self/limits', 'utf8')): ResourceLimit {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) throw new Error('no "Max open files" line in /proc/self/limits');
  return { soft: parseLimitValue(m[1]!), hard: parseLimitValue(m[2]!) };
}

function readNrOpen(): bigint {
  try {
    return BigInt(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim());
  } catch {
    return 1024n * 1024n; // the kernel's default
  }
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** the manager's default for its services (systemd's fallback_rlimit_nofile) */
export function defaultNofileLimit(scope: 'system' | 'user', own: ResourceLimit, nrOpen: bigint): ResourceLimit {
  const hard = scope === 'system' ? min(nrOpen, max(own.hard, HIGH_RLIMIT_NOFILE)) : own.hard;
  return { soft: min(own.soft, FD_SETSIZE), hard };
}

export interface NofileSteps {
  softFirst: string;
  hard: string;
  softAfter: string;
  softIfHardRefused: string;
}

/** no `ulimit` at all: the process keeps the limit it inherits */
export const NO_NOFILE_STEPS: Readonly<NofileSteps> = { softFirst: '', hard: '', softAfter: '', softIfHardRefused: '' };

/**
 * The `ulimit` arguments that take a process from `own` to `target` with no invalid pair on the
 * way (a soft limit above the hard one): the soft limit first when the new hard limit is below
 * the current soft one, after it otherwise. The kernel may refuse a higher hard limit (above
 * fs.nr_open, or without CAP_SYS_RESOURCE, which root lacks in some sandboxes and user
 * namespaces): then the hard limit stays and the soft one becomes `softIfHardRefused`, the nearest
 * allowed. '' = no step.
 */
export function nofileSteps(own: ResourceLimit, target: ResourceLimit): NofileSteps {
  const fmt = (v: bigint): string => (v === RLIM_INFINITY ? 'unlimited' : String(v));
  if (target.soft === own.soft && target.hard === own.hard) return NO_NOFILE_STEPS;
  const hard = target.hard === own.hard ? '' : fmt(target.hard);
  if (target.hard < own.soft) return { ...NO_NOFILE_STEPS, softFirst: fmt(target.soft), hard };
  return {
    softFirst: '',
    hard,
    softAfter: target.soft === own.soft ? '' : fmt(target.soft),
    softIfHardRefused: hard === '' ? '' : fmt(min(target.soft, own.hard)),
  };
}

let facts: { own: ResourceLimit; nrOpen: bigint } | undefined;
function processFacts(): NonNullable<typeof facts> {
  facts ??= { own: readOwnNofileLimit(), nrOpen: readNrOpen() };
  return facts;
}

/** the default a service of this manager gets (also what its LimitNOFILE properties show) */
export function managerNofileDefault(scope: 'system' | 'user'): ResourceLimit {
  const f = processFacts();
  return defaultNofileLimit(scope, f.own, f.nrOpen);
}

/** the steps for a process of this manager that asks for `want` */
export function nofileStepsFor(want: ResourceLimit): NofileSteps {
  return nofileSteps(processFacts().own, want);
}
