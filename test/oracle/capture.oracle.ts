// Captures golden files from real systemd 252 (`systemd --user` in a mount namespace, see
// oracle.ts) into test/fixtures/oracle/. Needs root. Not part of `npm test`; run:
//
//   npx vitest run --config test/oracle/vitest.oracle.config.ts capture
//
// Writes:
//   lib-systemd-system.json   Type/KillMode/KillSignal/TimeoutStopUSec/ExecStop/... of every unit
//                             file under /lib/systemd/system, as a user manager reports them
//   units-show.json           `systemctl --user show -p ...` of every example unit in units/
//   units-status.json         `systemctl --user status` of each example unit (inactive) and of
//                             nosuch.service, with exit codes
//   units-list.json           `systemctl --user list-units --all <our units>` idle and running
//   introspect-manager.xml    raw Introspect of /org/freedesktop/systemd1
//   introspect-service-unit.xml  raw Introspect of a service unit's object
//   introspect-job.xml        raw Introspect of a job object (a start job held by ExecStartPre=sleep)
//
// Placeholders in captured text (so files do not depend on temp paths):
//   @UNIT_DIR@    the directory the example units were loaded from (units/)
//   @RUNTIME_DIR@ the manager's %t (a user manager: $XDG_RUNTIME_DIR; system manager: /run)
//   @HOME@        the manager's %h
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  exampleUnitNames,
  oracleAvailable,
  startOracle,
  TEMPLATE_INSTANCE,
  type Oracle,
  type RunResult,
} from './oracle.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNITS_DIR = join(ROOT, 'units');
const OUT = join(ROOT, 'test/fixtures/oracle');
const LIB_DIR = '/lib/systemd/system';

const UNIT_SUFFIXES = /\.(service|socket|target|device|mount|automount|swap|timer|path|slice|scope)$/;

export const LIB_PROPERTIES = [
  'Id',
  'LoadState',
  'Type',
  'KillMode',
  'KillSignal',
  'SendSIGHUP',
  'SendSIGKILL',
  'FinalKillSignal',
  'RestartKillSignal',
  'TimeoutStopUSec',
  'TimeoutStartUSec',
  'RemainAfterExit',
  'ExecStart',
  'ExecStop',
  'ExecStopPost',
];

export const UNITS_SHOW_PROPERTIES = [
  'Id',
  'Type',
  'KillMode',
  'KillSignal',
  'SendSIGHUP',
  'SendSIGKILL',
  'FinalKillSignal',
  'RestartKillSignal',
  'TimeoutStopUSec',
  'TimeoutStartUSec',
  'ExecStart',
  'ExecStop',
  'ExecReload',
  'LoadState',
  'ActiveState',
  'SubState',
  'Description',
  'Restart',
  'RemainAfterExit',
  'PIDFile',
];

// Specifiers whose value differs between the system manager and a user manager (systemd.unit(5),
// v252 src/shared/specifier.c + src/core/unit-printf.c). %u/%U/%g/%G are root in both here
// (the oracle runs as root); %T/%V are /tmp and /var/tmp in both.
const MANAGER_DEPENDENT_SPECIFIERS: Record<string, { system: string; user: string }> = {
  '%t': { system: '/run', user: '$XDG_RUNTIME_DIR' },
  '%S': { system: '/var/lib', user: '$XDG_STATE_HOME (~/.local/state)' },
  '%C': { system: '/var/cache', user: '$XDG_CACHE_HOME (~/.cache)' },
  '%L': { system: '/var/log', user: '$XDG_STATE_HOME/log (~/.local/state/log)' },
  '%E': { system: '/etc', user: '$XDG_CONFIG_HOME (~/.config)' },
  '%h': { system: '/root (home of the user running the manager)', user: '$HOME' },
};

function parseShow(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function writeJson(name: string, data: unknown): void {
  writeFileSync(join(OUT, name), JSON.stringify(data, null, 2) + '\n');
}

function unitFileText(dir: string, name: string): string {
  // the unit file plus its drop-ins (<name>.d/*.conf, and for instances the template's)
  let text = '';
  const read = (p: string): void => {
    try {
      text += readFileSync(p, 'utf8') + '\n';
    } catch {
      /* missing or /dev/null */
    }
  };
  read(join(dir, name));
  for (const d of [`${name}.d`]) {
    try {
      for (const f of readdirSync(join(dir, d)).filter((f) => f.endsWith('.conf'))) read(join(dir, d, f));
    } catch {
      /* none */
    }
  }
  return text;
}

function specifiersIn(text: string): string[] {
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    if (/^\s*[#;]/.test(line)) continue;
    for (const m of line.matchAll(/%(.)/g)) if (m[1] !== '%') found.add(`%${m[1]}`);
  }
  return [...found].sort();
}

async function showBatch(o: Oracle, props: string[], names: string[]): Promise<Record<string, string>[]> {
  const r = await o.systemctl(['show', '-p', props.join(','), ...names]);
  const blocks = r.stdout.replace(/\n$/, '').split('\n\n');
  if (r.code === 0 && blocks.length === names.length) return blocks.map(parseShow);
  // misaligned (an error for one name): fall back to one call per unit
  const out: Record<string, string>[] = [];
  for (const n of names) {
    const one = await o.systemctl(['show', '-p', props.join(','), n]);
    out.push(one.code === 0 ? parseShow(one.stdout) : { error: one.stderr.trim() });
  }
  return out;
}

async function introspect(o: Oracle, path: string): Promise<string> {
  const r = await o.busctl([
    '--json=short',
    'call',
    'org.freedesktop.systemd1',
    path,
    'org.freedesktop.DBus.Introspectable',
    'Introspect',
  ]);
  if (r.code !== 0) throw new Error(`Introspect ${path}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { data: string[] }).data[0]!;
}

describe.skipIf(!oracleAvailable())('capture golden files from systemd 252', () => {
  mkdirSync(OUT, { recursive: true });

  it('lib-systemd-system.json', async () => {
    const entries = readdirSync(LIB_DIR)
      .filter((n) => UNIT_SUFFIXES.test(n))
      .filter((n) => !lstatSync(join(LIB_DIR, n)).isDirectory())
      .sort();
    // bus=false: the search path is exactly [idle target dir, /lib/systemd/system], so no
    // oracle stub shadows a vendor unit (dbus.service, basic.target, ...)
    const o = await startOracle({ unitDirs: [LIB_DIR], bus: false });
    try {
      const version = parseShow((await o.systemctl(['show', '-p', 'Version'])).stdout).Version;
      const queried = entries.map((n) => (/@\./.test(n) ? n.replace('@.', `@${TEMPLATE_INSTANCE}.`) : n));
      const results: Record<string, string>[] = [];
      for (let i = 0; i < queried.length; i += 40)
        results.push(...(await showBatch(o, LIB_PROPERTIES, queried.slice(i, i + 40))));
      const units: Record<string, unknown> = {};
      entries.forEach((file, i) => {
        const st = lstatSync(join(LIB_DIR, file));
        const text = st.isSymbolicLink() ? '' : unitFileText(LIB_DIR, file);
        const specs = specifiersIn(text);
        const props = results[i]!;
        for (const [k, v] of Object.entries(props)) {
          props[k] = v.split(o.runtimeDir).join('@RUNTIME_DIR@').split(o.homeDir).join('@HOME@');
        }
        units[file] = {
          queriedAs: queried[i],
          ...(st.isSymbolicLink() ? { symlinkTo: readlinkSync(join(LIB_DIR, file)) } : {}),
          ...(file.includes('@.') ? { template: true } : {}),
          specifiers: specs,
          managerDependent: specs.filter((s) => s in MANAGER_DEPENDENT_SPECIFIERS),
          properties: props,
        };
      });
      writeJson('lib-systemd-system.json', {
        _header: {
          description:
            'What systemd 252 reports (systemctl show -p ...) for every unit file under /lib/systemd/system. ' +
            'Captured with a USER manager (systemd --user, SYSTEMD_UNIT_PATH=<dir with only ' +
            'unitd-oracle-idle.target>:/lib/systemd/system), by test/oracle/capture.oracle.ts.',
          systemdVersion: version,
          properties: LIB_PROPERTIES,
          output:
            'properties are as `systemctl show -p` prints them: in the server\'s order (not -p order), and ' +
            'properties that are empty arrays (ExecStop with no command, ...) or that the unit type lacks ' +
            '(Type on a .target) are omitted; an empty string is printed (masked units report Type=). ' +
            'A missing key therefore means "empty / not applicable".',
          command: 'npx vitest run --config test/oracle/vitest.oracle.config.ts capture',
          templates: `template files foo@.ext are queried as foo@${TEMPLATE_INSTANCE}.ext (see queriedAs)`,
          symlinks:
            'alias symlinks are queried by the alias name (Id shows the unit it resolves to); ' +
            'symlinks to /dev/null report LoadState=masked',
          dropIns:
            'only drop-ins under /lib/systemd/system/<unit>.d apply; /etc and /run overrides are NOT in the search path',
          userVersusSystemManager: {
            specifiers: MANAGER_DEPENDENT_SPECIFIERS,
            specifiersNote:
              'each unit lists the specifiers its file (+ /lib drop-ins) uses in "specifiers" and the ' +
              'manager-dependent ones in "managerDependent": compare their values only after mapping ' +
              '@RUNTIME_DIR@ -> /run and @HOME@ -> /root, or skip them. Values were captured with the ' +
              'runtime dir replaced by @RUNTIME_DIR@ and the home by @HOME@.',
            defaults:
              'DefaultTimeoutStopSec/DefaultTimeoutStartSec are 90s in both (user.conf and system.conf are ' +
              'all-default on this machine); KillMode, KillSignal, SendSIGHUP, SendSIGKILL, FinalKillSignal ' +
              'defaults are the same for both managers.',
            notLoadedByUserManager:
              'a user manager loads every unit type from its path; units whose settings are system-only still ' +
              'load (LoadState=loaded) and only log a warning',
          },
        },
        units,
      });
      expect(Object.keys(units).length).toBe(entries.length);
    } finally {
      await o.stop();
    }
  });

  it('units-show.json, units-status.json, units-list.json, introspect-*.xml', async () => {
    const names = exampleUnitNames(UNITS_DIR);
    const extraDir = mkdtempSync('/tmp/unitd-oracle-capture-');
    // a unit whose start job stays around for a while: the job object to introspect
    writeFileSync(
      join(extraDir, 'oracle-slow-start.service'),
      '[Unit]\nDescription=oracle: start job held by ExecStartPre\n\n[Service]\nExecStartPre=/bin/sleep 30\nExecStart=/bin/sleep 100\n',
    );
    const o = await startOracle({ unitDirs: [UNITS_DIR, extraDir] });
    const norm = (s: string): string =>
      s
        .split(UNITS_DIR)
        .join('@UNIT_DIR@')
        .split(o.runtimeDir)
        .join('@RUNTIME_DIR@')
        .split(o.homeDir)
        .join('@HOME@');
    const rec = (r: RunResult, args: string[]): Record<string, unknown> => ({
      args: ['--user', '--no-pager', ...args],
      code: r.code,
      stdout: norm(r.stdout),
      stderr: norm(r.stderr),
    });
    try {
      const header = {
        description:
          'systemd 252 (systemd --user in a mount namespace) on the example units in units/; ' +
          'captured by test/oracle/capture.oracle.ts',
        command: 'npx vitest run --config test/oracle/vitest.oracle.config.ts capture',
        environment: 'SYSTEMD_PAGER=cat SYSTEMD_OFFLINE=0 SYSTEMD_COLORS=0 LC_ALL=C COLUMNS=200, stdout not a tty',
        placeholders: {
          '@UNIT_DIR@': 'directory holding the unit files (units/)',
          '@RUNTIME_DIR@': '%t of the manager ($XDG_RUNTIME_DIR for a user manager, /run for the system manager)',
          '@HOME@': '%h of the manager',
        },
        templateInstance: TEMPLATE_INSTANCE,
      };

      // show
      const show: Record<string, unknown> = {};
      for (const n of names) {
        const args = ['show', '-p', UNITS_SHOW_PROPERTIES.join(','), n];
        const r = await o.systemctl(args);
        show[n] = { ...rec(r, args), properties: parseShow(norm(r.stdout)) };
        expect(parseShow(r.stdout).LoadState).toBe('loaded');
      }
      writeJson('units-show.json', { _header: { ...header, properties: UNITS_SHOW_PROPERTIES }, units: show });

      // status (never started: inactive/dead), and an unknown unit
      const status: Record<string, unknown> = {};
      for (const n of [...names, 'nosuch.service']) {
        const args = ['status', n];
        status[n] = rec(await o.systemctl(args), args);
      }
      writeJson('units-status.json', { _header: { ...header, state: 'units never started (inactive)' }, units: status });

      // list-units: idle, then with every example unit started
      const listArgs = ['list-units', '--all', ...names];
      const idle = rec(await o.systemctl(listArgs), listArgs);
      for (const n of names) expect((await o.systemctl(['start', n])).code).toBe(0);
      const running = rec(await o.systemctl(listArgs), listArgs);
      const listPlain = [...listArgs, '--plain', '--no-legend'];
      const runningPlain = rec(await o.systemctl(listPlain), listPlain);
      for (const n of names) await o.systemctl(['stop', n]);
      writeJson('units-list.json', {
        _header: {
          ...header,
          note:
            'idle = after show/status only (never-started units are garbage-collected right after each ' +
            'call, so nothing is listed); running = after starting every example unit',
        },
        idle,
        running,
        runningPlain,
      });

      // introspection
      writeFileSync(join(OUT, 'introspect-manager.xml'), await introspect(o, '/org/freedesktop/systemd1'));
      expect((await o.systemctl(['start', 'crond-demo.service'])).code).toBe(0);
      writeFileSync(
        join(OUT, 'introspect-service-unit.xml'),
        await introspect(o, '/org/freedesktop/systemd1/unit/crond_2ddemo_2eservice'),
      );
      await o.systemctl(['stop', 'crond-demo.service']);
      const job = await o.busctl([
        '--json=short',
        'call',
        'org.freedesktop.systemd1',
        '/org/freedesktop/systemd1',
        'org.freedesktop.systemd1.Manager',
        'StartUnit',
        'ss',
        'oracle-slow-start.service',
        'replace',
      ]);
      expect(job.code).toBe(0);
      const jobPath = (JSON.parse(job.stdout) as { data: string[] }).data[0]!;
      expect(jobPath).toMatch(/^\/org\/freedesktop\/systemd1\/job\/\d+$/);
      writeFileSync(join(OUT, 'introspect-job.xml'), await introspect(o, jobPath));
      await o.systemctl(['stop', 'oracle-slow-start.service']);
    } finally {
      await o.stop();
      rmSync(extraDir, { recursive: true, force: true });
    }
  });
});
