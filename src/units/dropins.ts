// Drop-in discovery, following systemd 252's src/shared/dropin.c (unit_file_find_dropin_paths):
// for the unit's id and each alias, in every search directory: NAME.d/, then (instances) the
// template's TEMPLATE.d/, then the dash-prefix directories ("foo-bar-.service.d/",
// "foo-.service.d/" for foo-bar-baz.service); finally the type directory ("service.d/").
// The *.conf files of all those directories are merged by file name (the first directory holding
// a name wins) and sorted by file name. NAME.wants/ and NAME.requires/ are found the same way.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { instanceOf, isInstance, prefixOf, templateOf, unitType } from './unit-name.js';

/** Absolute paths of the drop-in files to apply, in order. */
export function findDropInPaths(searchPath: readonly string[], id: string, aliases: Iterable<string>): string[] {
  return listEntries(findDirs(searchPath, id, aliases, '.d'), '.conf');
}

/**
 * The entries of the NAME.wants/ (or .requires/) directories, found like drop-in directories
 * (load-dropin.c:process_deps): absolute paths, merged by entry name and sorted.
 */
export function findDependencyLinks(
  searchPath: readonly string[],
  id: string,
  aliases: Iterable<string>,
  suffix: '.wants' | '.requires',
): string[] {
  return listEntries(findDirs(searchPath, id, aliases, suffix), '');
}

function findDirs(searchPath: readonly string[], id: string, aliases: Iterable<string>, suffix: string): string[] {
  const dirs: string[] = [];
  const names = [id, ...[...aliases].filter((a) => a !== id)];
  for (const name of names) for (const p of searchPath) collectDirs(p, name, suffix, dirs);
  const type = unitType(id);
  if (type) for (const p of searchPath) collectDirs(p, type, suffix, dirs);
  return dirs;
}

const UNIT_PREFIX_CHARS = /^[0-9A-Za-z:\-_.\\]+$/;

function collectDirs(searchDir: string, name: string, suffix: string, dirs: string[]): void {
  addIfDirectory(`${searchDir}/${name}${suffix}`, dirs);

  if (isInstance(name)) collectDirs(searchDir, templateOf(name)!, suffix, dirs);

  // a bare type name ("service") is the top-level drop-in: no prefixes to walk
  if (!name.includes('.')) return;

  let prefix = prefixOf(name);
  let chopped = false;
  for (;;) {
    const dash = prefix.lastIndexOf('-');
    if (dash <= 0) return;
    if (dash + 1 < prefix.length || chopped) {
      prefix = prefix.slice(0, dash + 1);
      break;
    }
    // a trailing dash is chopped off once and the search goes on
    prefix = prefix.slice(0, dash);
    chopped = true;
  }
  if (!UNIT_PREFIX_CHARS.test(prefix)) return;

  const instance = isInstance(name) ? instanceOf(name) : null;
  const typeSuffix = name.slice(name.lastIndexOf('.'));
  const built = instance !== null ? `${prefix}@${instance}${typeSuffix}` : `${prefix}${typeSuffix}`;
  collectDirs(searchDir, built, suffix, dirs);
}

/** Directories are recorded by their canonical path, as systemd's chase_symlinks() does. */
function addIfDirectory(path: string, dirs: string[]): void {
  try {
    if (!statSync(path).isDirectory()) return;
    dirs.push(realpathSync(path));
  } catch {
    // most units have no drop-in directory
  }
}

/** conf_files_list_strv(): entries ending in `suffix`, the first directory holding a name winning. */
function listEntries(dirs: readonly string[], suffix: string): string[] {
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.endsWith(suffix) || entry.startsWith('.')) continue;
      if (byName.has(entry)) continue;
      byName.set(entry, `${dir}/${entry}`);
    }
  }
  return [...byName.keys()].sort(compareBytes).map((k) => byName.get(k)!);
}

/** strcmp() order */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
