// PropertiesChanged for unit objects: after any change of a unit, at the end of the current
// event-loop turn, compare what the unit reports with what was last announced; if anything moved,
// send one signal per interface in the object's order (the type interface before
// org.freedesktop.systemd1.Unit), as systemd does.
import type { Unit } from '../units/unit.js';
import type { BusObject, ObjectServer } from './object-server.js';
import { valueKey } from './wire-values.js';

type Snapshot = Map<string, string>; // "iface\0prop" -> value key

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
    if (object) this.announced.set(unit, this.snapshot(object));
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

  /** Sends what changed for one unit now (jobs call this before their own signals). */
  flush(unit: Unit): void {
    if (!this.dirty.delete(unit)) return;
    const object = this.objectOf(unit);
    if (!object) return;
    const before = this.announced.get(unit) ?? new Map<string, string>();
    const after = this.snapshot(object);
    this.announced.set(unit, after);
    if (!this.wanted(unit)) return;
    const path = this.pathOf(unit);
    let anyChange = false;
    for (const [key, value] of after) if (before.get(key) !== value) anyChange = true;
    if (!anyChange) return;
    // like systemd, each signal carries every "emits" property of its interface with its value and
    // every "invalidates" one by name, whichever of them changed
    for (const impl of object.interfaces) {
      const changed = new Map<string, unknown>();
      const invalidated: string[] = [];
      for (const prop of impl.spec.properties.values()) {
        if (prop.emitsChanged === 'true') changed.set(prop.name, impl.getters[prop.name]!());
        else if (prop.emitsChanged === 'invalidates') invalidated.push(prop.name);
      }
      if (changed.size > 0 || invalidated.length > 0) this.server.emitPropertiesChanged(path, impl.spec.name, changed, invalidated);
    }
  }

  private snapshot(object: BusObject): Snapshot {
    const snap: Snapshot = new Map();
    for (const impl of object.interfaces) {
      for (const prop of impl.spec.properties.values()) {
        if (prop.emitsChanged !== 'true' && prop.emitsChanged !== 'invalidates') continue;
        snap.set(`${impl.spec.name}\0${prop.name}`, valueKey(impl.getters[prop.name]!()));
      }
    }
    return snap;
  }
}
