// The unit store: turns a unit name into a LoadedUnit by finding its file in the search path,
// reading it and its drop-ins, and applying the settings, with systemd 252's load states:
//   loaded, not-found (no file; also an unreadable one, as 252 does), masked (/dev/null link or
//   empty file), bad-setting (a fatal setting, or service_verify() refusing), error (a file
//   systemd cannot parse at all, e.g. a malformed section header).
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { LoadedUnit, LoadError, LoadState, ParsedFile, ParseWarning } from './types.js';
import { InvalidUnitNameError, type UnitSource } from './unit-registry.js';
import { instanceOf, isTemplate, isValidUnitName, replaceInstance, unitNameToPath, unitType } from './unit-name.js';
import { isIgnoredSectionName, parseUnitBytes, parseUnitText, splitPhysicalLines, UnitFileSyntaxError } from './syntax.js';
import { applySetting } from './settings.js';
import { FatalSettingError, type SettingContext } from './setting-appliers.js';
import { newUnitConfig, sectionsOf, type UnitConfig } from './unit-config.js';
import { completeService, verifyService, type ManagerFacts } from './service-checks.js';
import { buildUnitFileMap, findFragment, isMaskFile, unitFileNames, type UnitFileMap } from './unit-file-map.js';
import { findDependencyLinks, findDropInPaths } from './dropins.js';
import { buildEnablementIndex, unitFileState, type EnablementIndex } from './unit-file-state.js';
import { unitSearchPath, type Environment, type UnitScope } from './search-path.js';
import { bootUnitNames } from './boot-units.js';
import {
  defaultSpecifierContext,
  expandSpecifiers,
  SPECIFIER_MAX_PATH,
  type SpecifierContext,
} from './specifiers.js';

export { InvalidUnitNameError };

export interface UnitStoreOptions {
  scope?: UnitScope;
  /** the directories to search, highest priority first; default: unitSearchPath({ scope, env }) */
  searchPath?: readonly string[];
  env?: Environment;
  /** replaces fields of the specifier context (host name, user, ...), e.g. for tests */
  specifiers?: Partial<SpecifierContext>;
}

/** Unit types whose units load without a file (slice_load/device_load pass fragment_required=false). */
const FRAGMENT_OPTIONAL = new Set(['slice', 'device']);

export class UnitStore implements UnitSource {
  readonly scope: UnitScope;
  readonly searchPath: readonly string[];
  private readonly specifierBase: SpecifierContext;
  private cache: { map: UnitFileMap; index: EnablementIndex; stamp: string } | null = null;

  constructor(options: UnitStoreOptions = {}) {
    this.scope = options.scope ?? 'system';
    const env = options.env ?? process.env;
    this.searchPath = options.searchPath ? [...options.searchPath] : unitSearchPath({ scope: this.scope, env });
    this.specifierBase = defaultSpecifierContext('unitd.service', this.scope, options.specifiers ?? {}, { ...env });
  }

  /**
   * Loads a unit by name. Throws InvalidUnitNameError for names that are not valid unit names or
   * are templates (systemd refuses to load "foo@.service"); anything else gives a LoadedUnit.
   */
  load(name: string): LoadedUnit {
    if (!isValidUnitName(name, { plain: true, instance: true })) throw new InvalidUnitNameError(name);
    const manager = this.scope === 'user' ? { userHome: this.specifierBase.user.home } : {};
    return new UnitLoad(name, this.fileMap(), this.specifierBase, manager).run();
  }

  /** The units a boot would pull in (see boot-units.ts). */
  bootUnits(): string[] {
    return bootUnitNames(this.searchPath, this.scope);
  }

  /** Every unit file name in the search path (templates and aliases included), sorted. */
  list(): string[] {
    return unitFileNames(this.fileMap().map);
  }

  /** Forgets what was learnt about the search path; the next load reads the directories again. */
  invalidate(): void {
    this.cache = null;
  }

  /** daemon-reload: same as invalidate(); file contents are read afresh on every load anyway. */
  reload(): void {
    this.invalidate();
  }

  private fileMap(): { map: UnitFileMap; index: EnablementIndex } {
    // like 252's lookup_paths_timestamp_hash_same(): rebuild when a search directory changed
    const stamp = this.searchPath.map((d) => mtimeOf(d)).join(',');
    if (this.cache && this.cache.stamp === stamp) return this.cache;
    this.cache = { map: buildUnitFileMap(this.searchPath), index: buildEnablementIndex(this.searchPath), stamp };
    return this.cache;
  }
}

function mtimeOf(dir: string): string {
  try {
    return String(statSync(dir).mtimeMs);
  } catch {
    return '-';
  }
}

/** One load of one unit name. */
class UnitLoad {
  private readonly warnings: ParseWarning[] = [];
  private readonly type: string;
  private readonly config: UnitConfig;

  constructor(
    private readonly requestedName: string,
    private readonly files: { map: UnitFileMap; index: EnablementIndex },
    private readonly specifierBase: SpecifierContext,
    private readonly manager: ManagerFacts,
  ) {
    this.type = unitType(requestedName)!;
    this.config = newUnitConfig(this.type);
  }

  run(): LoadedUnit {
    const { fragment, names } = findFragment(this.files.map, this.requestedName);
    if (this.type === 'scope') {
      // 252 refuses to load scope units from files (scope_load): scopes only exist as transient units
      return this.result(this.requestedName, names, 'not-found', '', []);
    }
    if (fragment === null) {
      if (FRAGMENT_OPTIONAL.has(this.type)) return this.loadWithoutFragment(names);
      return this.result(this.requestedName, names, 'not-found', '', []);
    }

    const id = idFromFragment(fragment, this.requestedName);
    let bytes: Buffer;
    try {
      bytes = readFileSync(fragment);
    } catch (err) {
      // 252 gives up before it marks the unit loaded: LoadState=not-found (src/core/load-fragment.c)
      this.warn({ file: fragment, line: 0 }, `Failed to open ${fragment}: ${errorText(err)}`);
      return this.result(this.requestedName, names, 'not-found', '', []);
    }

    if (isMaskFile(fragment)) {
      const dropIns = findDropInPaths(this.files.map.searchPath, id, names);
      return this.result(id, names, 'masked', fragment, dropIns);
    }

    // the fragment is parsed under the name being loaded, drop-ins under the final id (252 merges
    // alias units in between)
    const fragmentOutcome = this.applyFile(fragment, bytes, this.requestedName, fragment);
    if (fragmentOutcome !== 'ok') return this.result(id, names, fragmentOutcome, fragment, []);

    const dropIns = this.applyDropIns(id, names, fragment);
    return this.result(id, names, this.finish(id, fragment), fragment, dropIns);
  }

  private loadWithoutFragment(names: Set<string>): LoadedUnit {
    const id = this.requestedName;
    const dropIns = this.applyDropIns(id, names, '');
    return this.result(id, names, this.finish(id, ''), '', dropIns);
  }

  private applyDropIns(id: string, names: Set<string>, fragment: string): string[] {
    this.addDependencyLinks(id, names, '.wants', 'Wants');
    this.addDependencyLinks(id, names, '.requires', 'Requires');
    const dropIns = findDropInPaths(this.files.map.searchPath, id, names);
    for (const path of dropIns) {
      let content: Buffer;
      try {
        content = readFileSync(path);
      } catch (err) {
        this.warn({ file: path, line: 0 }, `Failed to open ${path}, ignoring: ${errorText(err)}`);
        continue;
      }
      // in a drop-in even fatal errors only stop that file (unit_load_dropin ignores them)
      this.applyFile(path, content, id, fragment);
    }
    return dropIns;
  }

  /** load-dropin.c:process_deps(): symlinks in NAME.wants/ and NAME.requires/ add dependencies. */
  private addDependencyLinks(id: string, names: Set<string>, suffix: '.wants' | '.requires', dependency: string): void {
    for (const path of findDependencyLinks(this.files.map.searchPath, id, names, suffix)) {
      if (isMaskFile(path)) continue;
      const origin = { file: path, line: 0 };
      if (!isSymlink(path)) {
        this.warn(origin, `${dependency} dependency dropin ${path} is not a symlink, ignoring.`);
        continue;
      }
      let entry = basename(path);
      if (!isValidUnitName(entry)) {
        this.warn(origin, `${dependency} dependency dropin ${path} is not a valid unit name, ignoring.`);
        continue;
      }
      if (isTemplate(entry)) {
        const instance = instanceOf(id);
        if (!instance) {
          this.warn(origin, `Cannot add ${dependency} dependency on ${entry}, ignoring: Invalid argument`);
          continue;
        }
        entry = replaceInstance(entry, instance);
      }
      const list = (this.config.unit.dependencies[dependency] ??= []);
      if (!list.includes(entry)) list.push(entry);
    }
  }

  /** What the type's load function adds once the files are read: service_add_extras() and
   *  service_verify() for services, the default description of slices. */
  private finish(id: string, fragment: string): LoadState {
    if (this.type === 'slice' && this.config.unit.description === '') {
      this.config.unit.description = id === '-.slice' ? 'Root Slice' : `Slice ${unitNameToPath(id)}`;
    }
    if (!this.config.service) return 'loaded';
    completeService(this.config, this.manager);
    const verdict = verifyService(this.config);
    // unit-level messages: attributed to the unit file, without a line
    const origin = { file: fragment, line: 0 };
    for (const w of verdict.warnings) this.warn(origin, w);
    if (verdict.error) {
      this.warn(origin, verdict.error);
      return 'bad-setting';
    }
    return 'loaded';
  }

  /** Parses one file and applies its assignments; stops at the first fatal error. */
  private applyFile(path: string, bytes: Buffer, unitId: string, fragmentPath: string): 'ok' | 'bad-setting' | 'error' {
    const first = this.warnings.length;
    try {
      return this.applyFileContents(path, bytes, unitId, fragmentPath);
    } finally {
      // this file's warnings in line order (section headers are checked in a separate pass)
      const mine = this.warnings.splice(first).sort((a, b) => a.line - b.line);
      this.warnings.push(...mine);
    }
  }

  private applyFileContents(path: string, bytes: Buffer, unitId: string, fragmentPath: string): 'ok' | 'bad-setting' | 'error' {
    let parsed: ParsedFile;
    let syntaxError: UnitFileSyntaxError | null = null;
    try {
      parsed = parseUnitBytes(bytes, path);
    } catch (err) {
      if (!(err instanceof UnitFileSyntaxError)) throw err;
      // systemd has applied the lines before the bad one when it gives up on the file
      syntaxError = err;
      parsed = parsePrefix(bytes, path, err.line - 1);
    }
    this.warnings.push(...parsed.warnings);

    const valid = sectionsOf(this.type);
    for (const header of sectionHeaders(bytes.toString('utf8'))) {
      if (!valid.includes(header.name) && !isIgnoredSectionName(header.name)) {
        this.warn({ file: path, line: header.line }, `Unknown section '${header.name}'. Ignoring.`);
      }
    }
    const specifiers: SpecifierContext = { ...this.specifierBase, unitId, fragmentPath: fragmentPath || undefined };

    for (const a of parsed.assignments) {
      const origin = { file: a.file, line: a.line };
      if (!valid.includes(a.section)) continue;
      const ctx: SettingContext = {
        origin,
        runtimeDir: specifiers.runtimeDir,
        managerScope: specifiers.scope,
        expand: (text, mode = 'full') =>
          expandSpecifiers(text, specifiers, mode === 'name' ? { mode: 'name' } : mode === 'path' ? { maxLength: SPECIFIER_MAX_PATH } : {}),
        warn: (message) => this.warn(origin, message),
      };
      try {
        if (a.section === 'Install') this.config.install.present = true;
        applySetting(this.config, a.section, a.key, a.value, ctx);
      } catch (err) {
        if (!(err instanceof FatalSettingError)) throw err;
        this.warn(origin, err.message);
        return 'bad-setting';
      }
    }
    if (syntaxError) {
      this.warn({ file: syntaxError.file, line: syntaxError.line }, syntaxError.reason);
      return 'error';
    }
    return 'ok';
  }

  private warn(origin: { file: string; line: number }, message: string): void {
    this.warnings.push({ file: origin.file, line: origin.line, message });
  }

  private result(id: string, names: Set<string>, loadState: LoadState, fragmentPath: string, dropInPaths: string[]): LoadedUnit {
    const allNames = [id, ...[...names].filter((n) => n !== id).sort()];
    const masked = loadState === 'masked';
    return {
      id,
      names: allNames,
      loadState,
      loadError: loadErrorFor(loadState, id),
      fragmentPath,
      sourcePath: this.config.sourcePath,
      dropInPaths,
      // install.c cannot parse the file either
      unitFileState: loadState === 'error' ? 'bad' : unitFileState({
        id,
        fragmentPath,
        masked,
        install: this.config.install,
        index: this.files.index,
      }),
      unit: this.config.unit,
      service: this.config.service,
      kill: this.config.kill,
      warnings: this.warnings,
    };
  }
}

/** The assignments of the first `lines` lines of a file (those before a syntax error). */
function parsePrefix(bytes: Buffer, path: string, lines: number): ParsedFile {
  const text = splitPhysicalLines(bytes.toString('utf8')).slice(0, Math.max(0, lines)).join('\n');
  try {
    return parseUnitText(text, path);
  } catch {
    return { path, assignments: [], warnings: [] };
  }
}

/** `[Name]` lines with their line numbers (syntax.ts keeps sections only on assignments). */
function sectionHeaders(text: string): { name: string; line: number }[] {
  const headers: { name: string; line: number }[] = [];
  let continued = false;
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    if (l.startsWith('#') || l.startsWith(';')) return;
    if (!continued && l.startsWith('[') && l.endsWith(']')) headers.push({ name: l.slice(1, -1), line: i + 1 });
    continued = /(^|[^\\])(\\\\)*\\$/.test(l);
  });
  return headers;
}

/** The unit's id: the fragment's name (with the instance put into a template's name). */
function idFromFragment(fragment: string, requestedName: string): string {
  const name = basename(fragment);
  if (isTemplate(name)) return replaceInstance(name, instanceOf(requestedName) ?? '');
  return isValidUnitName(name) ? name : requestedName;
}

/** dbus-unit.c:bus_unit_validate_load_state() */
export function loadErrorFor(state: LoadState, id: string): LoadError | null {
  switch (state) {
    case 'loaded':
      return null;
    case 'not-found':
      return { name: 'org.freedesktop.systemd1.NoSuchUnit', message: `Unit ${id} not found.` };
    case 'bad-setting':
      return { name: 'org.freedesktop.systemd1.BadUnitSetting', message: `Unit ${id} has a bad unit file setting.` };
    case 'masked':
      return { name: 'org.freedesktop.systemd1.UnitMasked', message: `Unit ${id} is masked.` };
    case 'error':
      // the only load errors we produce are unparsable files: EBADMSG
      return {
        name: 'org.freedesktop.DBus.Error.InconsistentMessage',
        message: `Unit ${id} failed to load properly, please adjust/correct and reload service manager: Bad message`,
      };
    default:
      return { name: 'org.freedesktop.systemd1.NoSuchUnit', message: `Unexpected load state of unit ${id}` };
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
