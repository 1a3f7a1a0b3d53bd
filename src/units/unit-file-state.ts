// A best-effort UnitFileState (systemd: src/shared/install.c:unit_file_get_state), enough for
// `systemctl status`'s "Loaded: ... ; enabled; ...": masked, generated, transient, enabled (a link
// to the unit in a configuration directory's .wants/.requires/.upholds, or an alias link there),
// else disabled/indirect/static from the [Install] section. Presets are not evaluated.
import { readdirSync, readlinkSync, lstatSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { InstallSection } from './unit-config.js';

/** Names linked from configuration directories, split by whether the directory is under /run. */
export interface EnablementIndex {
  persistent: Set<string>;
  runtime: Set<string>;
}

// install.c:find_symlinks_in_scope() only counts links in the persistent configuration
// directories (enabled) and in runtime directories (enabled-runtime); links elsewhere in the search
// path (vendor directories, $SYSTEMD_UNIT_PATH additions) do not enable anything.
const PERSISTENT_CONFIG = [/^\/etc\/systemd\/(system|user)(\.control)?$/, /\/\.config\/systemd\/user(\.control)?$/];

function dirKind(dir: string): 'persistent' | 'runtime' | null {
  if (PERSISTENT_CONFIG.some((re) => re.test(dir))) return 'persistent';
  if (dir.startsWith('/run/') && !dir.includes('/systemd/generator')) return 'runtime';
  return null;
}

export function buildEnablementIndex(searchPath: readonly string[]): EnablementIndex {
  const index: EnablementIndex = { persistent: new Set(), runtime: new Set() };
  for (const dir of searchPath) {
    const kind = dirKind(dir);
    if (kind === null) continue;
    const into = kind === 'runtime' ? index.runtime : index.persistent;
    for (const entry of safeReaddir(dir)) {
      const path = `${dir}/${entry}`;
      if (/\.(wants|requires|upholds)$/.test(entry)) {
        for (const link of safeReaddir(path)) recordLink(`${path}/${link}`, into);
      } else {
        recordLink(path, into);
      }
    }
  }
  return index;
}

function recordLink(path: string, into: Set<string>): void {
  try {
    if (!lstatSync(path).isSymbolicLink()) return;
    into.add(basename(path));
    into.add(basename(resolve(path, '..', readlinkSync(path))));
  } catch {
    // vanished or unreadable: not a link we can count
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface FileStateInput {
  id: string;
  fragmentPath: string;
  masked: boolean;
  install: InstallSection;
  index: EnablementIndex;
}

export function unitFileState(input: FileStateInput): string {
  const { id, fragmentPath, install, index } = input;
  if (fragmentPath === '') return '';
  const runtime = fragmentPath.startsWith('/run/');
  if (input.masked) return runtime ? 'masked-runtime' : 'masked';
  if (fragmentPath.includes('/systemd/transient/')) return 'transient';
  if (fragmentPath.includes('/systemd/generator')) return 'generated';
  if (index.persistent.has(id)) return 'enabled';
  if (index.runtime.has(id)) return 'enabled-runtime';
  if (install.wantedBy.length > 0 || install.requiredBy.length > 0 || install.alias.length > 0) return 'disabled';
  if (install.also.length > 0) return 'indirect';
  return 'static';
}
