// Which file each unit name loads from, following systemd 252's src/basic/unit-file.c
// (unit_file_build_name_map, unit_file_resolve_symlink, unit_file_find_fragment):
//   * the search path is walked highest priority first; the first entry of a name wins;
//   * a symlink whose target stays inside the search path is an alias (name → target's name);
//     any other symlink (a "linked" unit file, or a mask to /dev/null) loads through the link;
//   * an instance without its own file uses the template's file.
import { readdirSync, readlinkSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { basename, resolve } from 'node:path';
import { instanceOf, isInstance, isTemplate, isValidUnitName, replaceInstance, templateOf, unitType } from './unit-name.js';

const FOLLOW_MAX = 8;

export interface UnitFileMap {
  /** the search path it was built from */
  searchPath: readonly string[];
  /** name → absolute path of the file to load, or the name of the unit it is an alias of */
  ids: Map<string, string>;
  /** unit name → every name that resolves to it (itself included iff a file or link of that name exists) */
  aliases: Map<string, string[]>;
}

export function buildUnitFileMap(searchPath: readonly string[]): UnitFileMap {
  const expanded = expandSearchPath(searchPath);
  const ids = new Map<string, string>();

  for (const dir of searchPath) {
    for (const entry of readDir(dir)) {
      const name = entry.name;
      if (!isValidUnitName(name)) continue;
      if (ids.has(name)) continue;
      const file = `${dir}/${name}`;
      if (entry.isFile()) {
        ids.set(name, file);
      } else if (entry.isSymbolicLink()) {
        const dst = resolveSymlink(expanded, dir, name);
        if (dst !== null) ids.set(name, dst);
      }
    }
  }

  const aliases = new Map<string, string[]>();
  for (const src of ids.keys()) {
    const fragment = resolveUnitFile(ids, src);
    if (typeof fragment !== 'string' || isMaskFile(fragment)) continue;
    let dst = basename(fragment);
    // a link from an instance name to a template aliases just that instance
    if (isTemplate(dst) && isInstance(src)) dst = replaceInstance(dst, instanceOf(src)!);
    const list = aliases.get(dst);
    if (list) list.push(src);
    else aliases.set(dst, [src]);
  }

  return { searchPath, ids, aliases };
}

/** Every valid unit file name in the map (templates included), sorted. */
export function unitFileNames(map: UnitFileMap): string[] {
  return [...map.ids.keys()].sort();
}

export type ResolveFailure = 'not-found' | 'dangling' | 'loop';

/** unit_ids_map_get(): follows aliases to the file that loads a name. */
export function resolveUnitFile(ids: Map<string, string>, name: string): string | ResolveFailure {
  let id: string | null = null;
  for (let n = 0; n < FOLLOW_MAX; n++) {
    let t = ids.get(id ?? name);
    if (t === undefined) {
      if (id === null) return 'not-found';
      const template = templateOf(id);
      if (template === null || isTemplate(id)) return 'dangling';
      t = ids.get(template);
      if (t === undefined) return 'dangling';
    }
    if (t.startsWith('/')) return t;
    id = t;
  }
  return 'loop';
}

export interface FragmentLookup {
  /** the file to load, null when there is none */
  fragment: string | null;
  /** the names of the unit, aliases included */
  names: Set<string>;
}

/** unit_file_find_fragment(): the file for a (non-template) unit name and all its names. */
export function findFragment(map: UnitFileMap, name: string): FragmentLookup {
  const instance = isInstance(name) ? instanceOf(name)! : null;
  const names = new Set<string>();
  addNames(map, null, instance, names, name);

  let fragment: string | null = null;
  const own = resolveUnitFile(map.ids, name);
  if (own.startsWith('/')) fragment = own;
  if (fragment === null && instance !== null) {
    const viaTemplate = resolveUnitFile(map.ids, templateOf(name)!);
    if (viaTemplate.startsWith('/')) fragment = viaTemplate;
  }

  if (fragment !== null) {
    const fragmentName = basename(fragment);
    if (fragmentName !== name) addNames(map, fragmentName, instance, names, fragmentName);
  }
  return { fragment, names };
}

function addNames(
  map: UnitFileMap,
  fragmentName: string | null,
  instance: string | null,
  names: Set<string>,
  name: string,
): void {
  if (!isTemplate(name)) names.add(name);
  for (const alias of map.aliases.get(name) ?? []) {
    if (instance !== null && isTemplate(alias)) {
      const inst = replaceInstance(alias, instance);
      // skip instance aliases that have a file of their own pointing elsewhere
      const instFragment = resolveUnitFile(map.ids, inst);
      if (instFragment.startsWith('/') && fragmentName !== null && basename(instFragment) !== fragmentName) continue;
      names.add(inst);
    } else {
      names.add(alias);
    }
  }
}

/**
 * unit_file_resolve_symlink(): an alias gives the target's unit name; a link leaving the search
 * path gives the link's own path (it is opened through the link). null: an invalid alias, ignored.
 */
function resolveSymlink(expandedSearchPath: readonly string[], dir: string, name: string): string | null {
  let target: string;
  try {
    target = readlinkSync(`${dir}/${name}`);
  } catch {
    return null;
  }
  const simplified = resolve(dir, target);
  const inSearchPath = expandedSearchPath.some((d) => simplified === d || simplified.startsWith(`${d}/`));
  if (!inSearchPath) return `${dir}/${name}`;
  const dst = basename(simplified);
  return aliasIsValid(name, dst) ? dst : null;
}

const MAY_ALIAS = new Set(['service', 'socket', 'target', 'device', 'timer', 'path']);
const MAY_TEMPLATE = new Set(['service', 'socket', 'target', 'timer', 'path']);

/** unit_validate_alias_symlink_or_warn() */
function aliasIsValid(src: string, dst: string): boolean {
  const srcType = unitType(src);
  if (srcType === null || !MAY_ALIAS.has(srcType)) return false;
  const srcKind = nameKind(src);
  if (srcKind !== 'plain' && !MAY_TEMPLATE.has(srcType)) return false;
  if (src === dst) return false;
  if (!isValidUnitName(dst)) return false;
  const dstKind = nameKind(dst);
  if (!(dstKind === srcKind || (srcKind === 'instance' && dstKind === 'template'))) return false;
  if (dstKind === 'instance' && instanceOf(src) !== instanceOf(dst)) return false;
  return unitType(dst) === srcType;
}

function nameKind(name: string): 'plain' | 'instance' | 'template' {
  if (isTemplate(name)) return 'template';
  if (isInstance(name)) return 'instance';
  return 'plain';
}

/** The search path plus each directory's canonical form, for recognising aliases. */
function expandSearchPath(searchPath: readonly string[]): string[] {
  const out: string[] = [];
  for (const dir of searchPath) {
    if (!out.includes(dir)) out.push(dir);
    try {
      const real = realpathSync(dir);
      if (!out.includes(real)) out.push(real);
    } catch {
      // missing directory: nothing to expand
    }
  }
  return out;
}

function readDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** null_or_empty_path(): /dev/null (any char device) or an empty regular file masks a unit. */
export function isMaskFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isCharacterDevice() || (st.isFile() && st.size === 0);
  } catch {
    return false;
  }
}
