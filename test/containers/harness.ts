// One unitd container for a test file: the image from global-setup.ts, extra units bind-mounted
// at /etc/unitd/units, helper scripts at /opt/test, an optional read-write host directory at
// /shared. Commands run inside through `container.exec`: the real systemctl 252, busctl and gdbus
// of the image, talking to unitd (PID 1) over the container's system bus, with no tricks.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { inject } from 'vitest';

// testcontainers reads these when it first looks for a container runtime (at the first start)
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.DOCKER_HOST = inject('dockerHost');

export const DEST = 'org.freedesktop.systemd1';
export const MANAGER_PATH = '/org/freedesktop/systemd1';
export const MANAGER_IFACE = 'org.freedesktop.systemd1.Manager';

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PsRow {
  stat: string;
  pid: number;
  ppid: number;
  args: string;
}

export interface UnitdContainerOptions {
  /** unit files (name → text) put in /etc/unitd/units */
  units?: Record<string, string>;
  /** executable scripts (name → text) put in /opt/test */
  scripts?: Record<string, string>;
  /** mount a fresh host directory read-write at /shared */
  shared?: boolean;
  /** extra unitd arguments */
  args?: string[];
}

/** the environment of every exec: only what makes output stable; no bus address, no namespace */
const EXEC_ENV = { LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: 'cat', COLUMNS: '200', TZ: 'UTC' };

export class UnitdContainer {
  private logText = '';
  private stopped = false;

  private constructor(
    readonly container: StartedTestContainer,
    private readonly hostDir: string,
    /** the host side of /shared (when asked for) */
    readonly sharedDir: string,
  ) {}

  static async start(opts: UnitdContainerOptions = {}): Promise<UnitdContainer> {
    const hostDir = mkdtempSync(join(tmpdir(), 'unitd-ct-'));
    const unitsDir = join(hostDir, 'units');
    const scriptsDir = join(hostDir, 'scripts');
    const sharedDir = join(hostDir, 'shared');
    for (const d of [unitsDir, scriptsDir, sharedDir]) mkdirSync(d);
    chmodSync(sharedDir, 0o777);
    for (const [name, text] of Object.entries(opts.units ?? {})) writeFileSync(join(unitsDir, name), text);
    for (const [name, text] of Object.entries(opts.scripts ?? {})) writeFileSync(join(scriptsDir, name), text, { mode: 0o755 });
    const binds: { source: string; target: string; mode: 'ro' | 'rw' }[] = [
      { source: unitsDir, target: '/etc/unitd/units', mode: 'ro' },
      { source: scriptsDir, target: '/opt/test', mode: 'ro' },
    ];
    if (opts.shared) binds.push({ source: sharedDir, target: '/shared', mode: 'rw' });
    let ct: UnitdContainer | undefined;
    const logs: string[] = [];
    try {
      const started = await new GenericContainer(inject('unitdImage'))
        .withBindMounts(binds)
        .withNetworkMode('none')
        .withCommand(opts.args ?? [])
        .withLogConsumer((stream: Readable) => {
          stream.on('data', (chunk: Buffer | string) => {
            const s = chunk.toString();
            if (ct) ct.logText += s;
            else logs.push(s);
          });
        })
        .withWaitStrategy(Wait.forLogMessage(/"msg":"ready"/))
        .withStartupTimeout(30_000)
        .start();
      ct = new UnitdContainer(started, hostDir, sharedDir);
      ct.logText = logs.join('') + ct.logText;
      return ct;
    } catch (err) {
      rmSync(hostDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** unitd's log (pino JSON lines) so far */
  logs(): string {
    return this.logText;
  }

  async exec(argv: string[]): Promise<Exec> {
    const r = await this.container.exec(argv, { env: EXEC_ENV });
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  sh(script: string): Promise<Exec> {
    return this.exec(['sh', '-c', script]);
  }

  systemctl(...args: string[]): Promise<Exec> {
    return this.exec(['systemctl', '--no-pager', ...args]);
  }

  busctl(...args: string[]): Promise<Exec> {
    return this.exec(['busctl', '--system', '--no-pager', ...args]);
  }

  /** `gdbus VERB --system ARGS` */
  gdbus(verb: string, ...args: string[]): Promise<Exec> {
    return this.exec(['gdbus', verb, '--system', ...args]);
  }

  /** busctl call on the manager */
  callManager(method: string, signature: string, ...args: string[]): Promise<Exec> {
    return this.busctl('call', DEST, MANAGER_PATH, MANAGER_IFACE, method, signature, ...args);
  }

  /** every process in the container (ps inside) */
  async ps(): Promise<PsRow[]> {
    const r = await this.exec(['ps', '-eo', 'stat=,pid=,ppid=,args=']);
    if (r.code !== 0) throw new Error(`ps failed: ${r.stderr}`);
    return r.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const m = /^\s*(\S+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l);
        if (!m) throw new Error(`cannot parse ps line ${l}`);
        return { stat: m[1]!, pid: Number(m[2]), ppid: Number(m[3]), args: m[4]! };
      });
  }

  /**
   * Live (non-zombie) processes whose command line contains `needle`. A shell's fork that has not
   * exec'd yet shows its parent's command line: such children of a match are left out.
   */
  async live(needle: string): Promise<PsRow[]> {
    const rows = (await this.ps()).filter((p) => !p.stat.startsWith('Z') && p.args.includes(needle) && !p.args.startsWith('ps '));
    const pids = new Set(rows.map((p) => p.pid));
    return rows.filter((p) => !(pids.has(p.ppid) && rows.some((q) => q.pid === p.ppid && q.args === p.args)));
  }

  async show(unit: string, prop: string): Promise<string> {
    const r = await this.systemctl('show', '-p', prop, '--value', unit);
    if (r.code !== 0) throw new Error(`systemctl show ${unit} failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** polls `check` until it returns true (or throws after timeoutMs) */
  async until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** stops the container (SIGTERM to unitd, then up to timeoutMs) and removes the host dirs */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.container.stop({ timeout: timeoutMs });
    } finally {
      rmSync(this.hostDir, { recursive: true, force: true });
    }
  }

  /**
   * Stops the container (its stop signal, SIGTERM, then SIGKILL after timeoutMs) but keeps the host
   * directories (the caller reads /shared, then calls cleanup). Answers with the container's exit
   * code and its complete log, read from podman after the exit, then removes the container.
   */
  async stopKeepingFiles(timeoutMs = 15_000): Promise<{ exitCode: number; log: string }> {
    if (this.stopped) throw new Error('already stopped');
    this.stopped = true;
    const id = this.container.getId();
    await this.container.stop({ timeout: timeoutMs, remove: false });
    try {
      const exitCode = Number(execFileSync('podman', ['inspect', '--format', '{{.State.ExitCode}}', id], { encoding: 'utf8' }).trim());
      const log = execFileSync('podman', ['logs', id], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      return { exitCode, log };
    } finally {
      execFileSync('podman', ['rm', '--force', id], { stdio: 'ignore' });
    }
  }

  cleanup(): void {
    rmSync(this.hostDir, { recursive: true, force: true });
  }
}
