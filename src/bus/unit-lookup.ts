// How a method names a unit, the two ways systemd 252 has (src/core/dbus-manager.c): a name that
// is loaded on demand (LoadUnit, the job methods: bus_load_unit_by_name → manager_load_unit), and
// one that must be loaded already (GetUnit, KillUnit, ResetFailedUnit...: bus_get_unit_by_name),
// where "" names the caller's own unit.
import type { Manager } from '../manager.js';
import { isValidUnitName } from '../units/unit-name.js';
import { InvalidUnitNameError } from '../units/unit-registry.js';
import type { Unit } from '../units/unit.js';
import { Errors } from './errors.js';
import type { CallContext } from './object-server.js';

export class UnitLookup {
  constructor(
    private readonly manager: Manager,
    private readonly callerUnit: (ctx: CallContext) => Promise<Unit | undefined>,
  ) {}

  /**
   * Loads the unit if it is not loaded. A bad name is InvalidArgs, a template name with its own
   * message (manager_load_unit_prepare), whoever asks.
   */
  load(name: string): Unit {
    try {
      return this.manager.units.load(name);
    } catch (e) {
      if (e instanceof InvalidUnitNameError) {
        if (isValidUnitName(name, { template: true })) throw Errors.invalidArgs(`Unit name ${name} is missing the instance name.`);
        throw Errors.invalidArgs(`Unit name ${name} is not valid.`);
      }
      throw e;
    }
  }

  /** A loaded unit; "" is the unit of the caller's process. */
  async loaded(ctx: CallContext, name: string): Promise<Unit> {
    if (name === '') {
      const own = await this.callerUnit(ctx);
      if (!own) throw Errors.noSuchUnit('Client not member of any unit.');
      return own;
    }
    const unit = this.manager.units.get(name);
    if (!unit) throw Errors.unitNotLoaded(name);
    return unit;
  }
}
