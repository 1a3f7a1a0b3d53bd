// The unit store: turns a unit name into a LoadedUnit by finding its file in the search path,
// reading it and its drop-ins, and applying the settings, with systemd 252's load states:
//   loaded, not-found (no file; also one that cannot be opened, as 252 does), masked (a link to
//   /dev/null or any character device, or an empty file), bad-setting (a fatal setting, or
//   service_verify() refusing), error (a file systemd cannot parse at all, e.g. a malformed section
//   header or an over-long line, and a file unitd will not read: a directory, FIFO, socket or
//   block device, or one over READ_FULL_BYTES_MAX), with the errno in LoadError.
// Files are read with readBoundedFile(): never anything that could block the daemon or never end.
import { lstatSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { LoadedUnit, LoadError, LoadState, ParseWarning } from './types.js';
import { InvalidUnitNameError, type UnitSource } from './unit-registry.js';
import { instanceOf, isTemplate, isValidUnitName, replaceInstance, UNIT_NAME_MAX, unitNameToPath, unitType } from './unit-name.js';
import { isIgnoredSectionName, scanUnitBytes, SYNTAX_ERRNO, UnitFileSyntaxError, type UnitTextSink } from './syntax.js';
import { applySetting } from './settings.js';
import { FatalSettingError, type SettingContext } from './setting-appliers.js';
import { newUnitConfig, sectionsOf, type UnitConfig } from './unit-config.js';
import { addUnique } from './unique-list.js';
import { completeService, verifyService, type ManagerFacts } from './service-checks.js';
import { buildUnitFileMap, findFragment, isMaskFile, unitFileNames, type UnitFileMap } from './unit-file-map.js';
import { FileReadError, readBoundedFile, readErrorText, readFailureReason, type BoundedRead } from '../util/bounded-read.js';
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

/**
 * Why a unit ended in LoadState=error: u->load_error as LoadError shows it, the D-Bus name
 * sd_bus_error_set_errnof() gives the errno and its strerror() text.
 */
interface LoadFailure {
  dbusName: string;
  text: string;
}

/** What applying one file came to: fine, a fatal setting, or a fault that fails the load. */
type FileOutcome = 'ok' | 'bad-setting' | LoadFailure;

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

/**
 * The most warnings one load keeps (and the daemon logs). 252 logs each one as it parses; unitd
 * keeps them with the unit, so a file of millions of bad lines (64 MiB of "x" lines: 33 million
 * "Missing '='") would hold gigabytes and crash the daemon. The rest are counted in a last line.
 */
export const WARNINGS_MAX = 1000;

/** One load of one unit name. */
class UnitLoad {
  private readonly warnings: ParseWarning[] = [];
  /** warnings past WARNINGS_MAX */
  private dropped = 0;
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
    // unit_load_fragment(): the fragment is opened, fstat()ed and then read, all on one descriptor
    let read: BoundedRead;
    try {
      read = readBoundedFile(fragment);
    } catch (err) {
      if (err instanceof FileReadError) {
        // Opened, but not a file unitd reads. 252 has marked the unit loaded when it reads, so a
        // failed read is LoadState=error with that errno: EISDIR for a directory (what 252 shows);
        // 252 would block for good in fopen() on a FIFO and reads a block device or a file of any
        // size, unitd refuses them (EBADFD, E2BIG: see util/bounded-read.ts)
        this.warn({ file: fragment, line: 0 }, `Failed to load configuration from ${fragment}: ${readFailureReason(err)}`);
        return this.result(id, names, 'error', fragment, [], readFailure(err));
      }
      // 252 gives up before it marks the unit loaded: LoadState=not-found (src/core/load-fragment.c)
      this.warn({ file: fragment, line: 0 }, `Failed to open ${fragment}: ${readErrorText(err)}`);
      return this.result(this.requestedName, names, 'not-found', '', []);
    }

    // null_or_empty() on what was opened: any character device (/dev/null, also /dev/zero or
    // /dev/urandom, never read) or an empty regular file is a mask
    if (read.kind === 'char-device' || read.data.length === 0) {
      const dropIns = findDropInPaths(this.files.map.searchPath, id, names);
      return this.result(id, names, 'masked', fragment, dropIns);
    }

    // the fragment is parsed under the name being loaded, drop-ins under the final id (252 merges
    // alias units in between)
    const fragmentOutcome = this.applyFile(fragment, read.data, this.requestedName, fragment);
    if (fragmentOutcome === 'bad-setting') return this.result(id, names, 'bad-setting', fragment, []);
    if (fragmentOutcome !== 'ok') return this.result(id, names, 'error', fragment, [], fragmentOutcome);

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
      let read: BoundedRead;
      try {
        read = readBoundedFile(path);
      } catch (err) {
        // a drop-in that cannot be opened or read is skipped (unit_load_dropin() ignores what
        // config_parse() returns) and stays in DropInPaths, as in 252
        this.warn({ file: path, line: 0 }, `Failed to open ${path}, ignoring: ${readFailureReason(err)}`);
        continue;
      }
      // a character device adds nothing: /dev/null reads as empty in 252 (it would read /dev/zero
      // for ever; unitd never reads a device)
      if (read.kind === 'char-device') continue;
      // in a drop-in even fatal errors only stop that file (unit_load_dropin ignores them)
      this.applyFile(path, read.data, id, fragment);
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
      addUnique((this.config.unit.dependencies[dependency] ??= []), entry);
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
  private applyFile(path: string, bytes: Buffer, unitId: string, fragmentPath: string): FileOutcome {
    const first = this.warnings.length;
    try {
      return this.applyFileContents(path, bytes, unitId, fragmentPath);
    } finally {
      // this file's warnings in line order (a continued assignment's come with its first line)
      const mine = this.warnings.splice(first).sort((a, b) => a.line - b.line);
      // (not push(...mine): a spread of 100k+ warnings overflows the stack)
      for (const w of mine) this.warnings.push(w);
    }
  }

  /**
   * Applies each assignment as the parser finds it, as config_parse() does line by line: neither
   * the lines nor the assignments of a file are held at once, and nothing past a fatal setting or
   * a syntax fault is parsed (252 stops there too).
   */
  private applyFileContents(path: string, bytes: Buffer, unitId: string, fragmentPath: string): FileOutcome {
    const valid = sectionsOf(this.type);
    const specifiers: SpecifierContext = { ...this.specifierBase, unitId, fragmentPath: fragmentPath || undefined };
    const sink: UnitTextSink = {
      warning: (w) => this.warn(w, w.message),
      // parse_line() warns about an unknown section when it meets its header
      section: (header) => {
        if (!valid.includes(header.name) && !isIgnoredSectionName(header.name)) {
          this.warn({ file: path, line: header.line }, `Unknown section '${header.name}'. Ignoring.`);
        }
      },
      assignment: (a) => {
        if (!valid.includes(a.section)) return;
        const origin = { file: a.file, line: a.line };
        const ctx: SettingContext = {
          origin,
          runtimeDir: specifiers.runtimeDir,
          managerScope: specifiers.scope,
          // the bounds of unit_name_printf() (UNIT_NAME_MAX), unit_path_printf() (PATH_MAX-1) and
          // unit_full_printf() (LONG_LINE_MAX): expansion stops as soon as the result passes them
          expand: (text, mode = 'full') =>
            expandSpecifiers(text, specifiers, mode === 'name' ? { mode: 'name', maxLength: UNIT_NAME_MAX } : mode === 'path' ? { maxLength: SPECIFIER_MAX_PATH } : {}),
          warn: (message) => this.warn(origin, message),
        };
        if (a.section === 'Install') this.config.install.present = true;
        try {
          applySetting(this.config, a.section, a.key, a.value, ctx);
        } catch (err) {
          // reported here, where its line is known; thrown on to stop the parse
          if (err instanceof FatalSettingError) this.warn(origin, err.message);
          throw err;
        }
      },
    };
    try {
      scanUnitBytes(bytes, path, sink);
    } catch (err) {
      if (err instanceof FatalSettingError) return 'bad-setting';
      if (!(err instanceof UnitFileSyntaxError)) throw err;
      // 252 has applied the lines before the bad one when it gives up on the file
      this.warn({ file: err.file, line: err.line }, err.reason);
      // the errno config_parse() failed with: EBADMSG, ENOBUFS ("Line too long"), EINVAL
      return SYNTAX_ERRNO[err.code];
    }
    return 'ok';
  }

  private warn(origin: { file: string; line: number }, message: string): void {
    if (this.warnings.length >= WARNINGS_MAX) {
      this.dropped++;
      return;
    }
    this.warnings.push({ file: origin.file, line: origin.line, message });
  }

  private result(id: string, names: Set<string>, loadState: LoadState, fragmentPath: string, dropInPaths: string[], failure?: LoadFailure): LoadedUnit {
    if (this.dropped > 0) {
      this.warnings.push({ file: fragmentPath, line: 0, message: `${this.dropped} more warnings about this unit not shown (at most ${WARNINGS_MAX} are kept)` });
      this.dropped = 0;
    }
    const allNames = [id, ...[...names].filter((n) => n !== id).sort()];
    const masked = loadState === 'masked';
    return {
      id,
      names: allNames,
      loadState,
      loadError: loadErrorFor(loadState, id, failure),
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

/** The unit's id: the fragment's name (with the instance put into a template's name). */
function idFromFragment(fragment: string, requestedName: string): string {
  const name = basename(fragment);
  if (isTemplate(name)) return replaceInstance(name, instanceOf(requestedName) ?? '');
  return isValidUnitName(name) ? name : requestedName;
}

/**
 * LoadState=error for a file refused by readBoundedFile(): none of its errnos (E2BIG, EISDIR,
 * EBADFD) is one bus-error.c has a D-Bus name for, so sd_bus_error_set_errnof() calls it
 * System.Error.<ERRNO> (252 shows System.Error.EISDIR for a directory).
 */
function readFailure(err: FileReadError): LoadFailure {
  return { dbusName: `System.Error.${err.code}`, text: readErrorText(err) };
}

/** dbus-unit.c:bus_unit_validate_load_state(); `failure` is the errno of LoadState=error (default EBADMSG). */
export function loadErrorFor(state: LoadState, id: string, failure: LoadFailure = SYNTAX_ERRNO.EBADMSG): LoadError | null {
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
      return {
        name: failure.dbusName,
        message: `Unit ${id} failed to load properly, please adjust/correct and reload service manager: ${failure.text}`,
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
