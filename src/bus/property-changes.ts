// PropertiesChanged for unit objects: after any change of a unit, at the end of the current
// event-loop turn, compare what the unit reports with what was last announced; if anything moved,
// send one signal per interface in the object's order (the type interface before
// org.freedesktop.systemd1.Unit), as systemd does.
import type { Unit } from '../units/unit.js';
import type { BusObject, ObjectServer } from './object-server.js';
import { valueKey } from './wire-values.js';

/** the value keys of the watched ("emits" and "invalidates") properties, in the object's order */
type Snapshot = string[];

/** what a unit reports now: its snapshot, and the content of one signal per interface */
interface Reading {
  keys: Snapshot;
  signals: { iface: string; changed: Map<string, unknown>; invalidated: string[] }[];
}

export class PropertyChangeTracker {
  private readonly announced = new WeakMap<Unit, Snapshot>();
  private readonly dirty = new Set<Unit>();
  private scheduled = false;

  constructor(
    private readonly server: ObjectServer,
    private readonly objectOf: (unit: Unit) => BusObject | null,
    private readonly pathOf: (unit: Unit) => string,
    private readonly wanted: (unit: Unit) => boolean,
  ) {}

  /** Records the unit's current values as announced (its UnitNew stands for them). */
  track(unit: Unit): void {
    const object = this.objectOf(unit);
    if (object) this.announced.set(unit, this.read(object).keys);
  }

  markDirty(unit: Unit): void {
    this.dirty.add(unit);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const u of [...this.dirty]) this.flush(u);
    });
  }

  /**
   * Sends what changed for one unit now (jobs call this before their own signals). The log goes
   * out first, also when nobody is told: a client that reads the unit's new state finds the lines
   * of the change (the log is otherwise written in batches, src/log.ts).
   */
  flush(unit: Unit): void {
    if (!this.dirty.delete(unit)) return;
    this.server.flushLog();
    const object = this.objectOf(unit);
    if (!object) return;
    const before = this.announced.get(unit);
    const now = this.read(object);
    this.announced.set(unit, now.keys);
    if (!this.wanted(unit)) return;
    if (before && sameKeys(before, now.keys)) return;
    const path = this.pathOf(unit);
    // like systemd, each signal carries every "emits" property of its interface with its value and
    // every "invalidates" one by name, whichever of them changed
    for (const { iface, changed, invalidated } of now.signals) {
      if (changed.size > 0 || invalidated.length > 0) this.server.emitPropertiesChanged(path, iface, changed, invalidated);
    }
  }

  /** Every watched property's value read once: for the comparison and for the signals. */
  private read(object: BusObject): Reading {
    const keys: Snapshot = [];
    const signals: Reading['signals'] = [];
    for (const impl of object.interfaces) {
      const changed = new Map<string, unknown>();
      const invalidated: string[] = [];
      for (const prop of impl.spec.properties.values()) {
        if (prop.emitsChanged !== 'true' && prop.emitsChanged !== 'invalidates') continue;
        const value = impl.getters[prop.name]!();
        keys.push(valueKey(value));
        if (prop.emitsChanged === 'true') changed.set(prop.name, value);
        else invalidated.push(prop.name);
      }
      signals.push({ iface: impl.spec.name, changed, invalidated });
    }
    return { keys, signals };
  }
}

function sameKeys(a: Snapshot, b: Snapshot): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
