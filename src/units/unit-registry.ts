// The set of loaded units, with systemd's life cycle: a unit is loaded when something refers to it
// (a D-Bus path, LoadUnit, a job), stays loaded while it is enabled (systemd's default target would
// pull it in), active, has a job or a Ref, and is collected once none of that holds. Reload re-reads
// every file and keeps run-time state.
import { EventEmitter } from 'node:events';
import { Unit } from './unit.js';
import type { LoadedUnit } from './types.js';

/** What the registry needs of the unit store. */
export interface UnitSource {
  /** loads a unit by a valid name; a missing file gives LoadState=not-found, never a throw */
  load(name: string): LoadedUnit;
  /** names of every unit file in the search path (templates excluded by the registry) */
  list(): string[];
  /** the units a boot would pull in (they stay loaded) */
  bootUnits(): string[];
  /** forget cached files so the next load reads the disk again */
  invalidate(): void;
}

/** systemd's root slice, always loaded and active: the manager's whole subtree */
export const ROOT_SLICE = '-.slice';

export class InvalidUnitNameError extends Error {
  constructor(readonly unitName: string) {
    super(`Unit name ${unitName} is not valid.`);
  }
}

export interface UnitRegistryEvents {
  'unit-new': [Unit];
  'unit-removed': [Unit];
}

export class UnitRegistry extends EventEmitter<UnitRegistryEvents> {
  /** every name (primary and alias) of every loaded unit */
  private readonly byName = new Map<string, Unit>();
  /** units that stay loaded: the enabled ones */
  private readonly pinned = new Set<string>();
  private gcScheduled = false;

  constructor(
    private readonly source: UnitSource,
    private readonly isValidName: (name: string) => boolean,
    /** the owner's own reasons to keep a unit (e.g. processes still in its cgroup) */
    private readonly keeps: (unit: Unit) => boolean = () => false,
  ) {
    super();
  }

  /** Loads the units a boot would pull in and keeps them; others load on demand. */
  loadAll(): void {
    for (const name of this.source.bootUnits()) {
      if (!this.isValidName(name)) continue;
      this.pinned.add(this.load(name).id);
    }
    this.scheduleGc();
  }

  /** Keeps a unit loaded for good (the root slice). */
  pin(unit: Unit): void {
    this.pinned.add(unit.id);
  }

  get(name: string): Unit | undefined {
    return this.byName.get(name);
  }

  /** The loaded unit of that name, loading it (or a not-found stub) when needed. */
  load(name: string): Unit {
    if (!this.isValidName(name)) throw new InvalidUnitNameError(name);
    const existing = this.byName.get(name);
    if (existing) return existing;
    const config = this.source.load(name);
    // an alias may resolve to a unit already loaded under its primary name
    const primary = this.byName.get(config.id);
    if (primary) {
      this.byName.set(name, primary);
      return primary;
    }
    const unit = new Unit(config);
    this.index(unit, name);
    this.emit('unit-new', unit);
    this.scheduleGc();
    return unit;
  }

  private index(unit: Unit, requested?: string): void {
    for (const n of new Set([unit.config.id, ...unit.config.names, ...(requested ? [requested] : [])])) this.byName.set(n, unit);
  }

  /** Every loaded unit once, in name order. */
  units(): Unit[] {
    return [...new Set(this.byName.values())].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Number of names, aliases included (Manager.NNames). */
  nameCount(): number {
    return this.byName.size;
  }

  /** daemon-reload: files are read again, run-time state stays with each unit. */
  reload(): void {
    this.source.invalidate();
    this.pinned.clear();
    for (const unit of this.units()) {
      for (const [n, u] of this.byName) if (u === unit) this.byName.delete(n);
      unit.reconfigure(this.source.load(unit.id));
      this.index(unit);
    }
    for (const unit of this.units()) if (unit.id === ROOT_SLICE) this.pinned.add(unit.id);
    this.loadAll();
    this.scheduleGc();
  }

  private collectable(unit: Unit): boolean {
    return (
      !this.pinned.has(unit.id) &&
      !this.keeps(unit) &&
      unit.job === null &&
      unit.refs.length === 0 &&
      (unit.activeState === 'inactive' || (unit.activeState === 'failed' && unit.config.unit.collectMode === 'inactive-or-failed'))
    );
  }

  scheduleGc(): void {
    if (this.gcScheduled) return;
    this.gcScheduled = true;
    setImmediate(() => {
      this.gcScheduled = false;
      for (const unit of this.units()) {
        if (!this.collectable(unit)) continue;
        for (const [n, u] of this.byName) if (u === unit) this.byName.delete(n);
        this.emit('unit-removed', unit);
      }
    });
  }
}
