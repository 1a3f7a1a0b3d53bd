// The Unit, Service and Manager interfaces as the daemon serves them, over a Manager with no unit
// files and the /proc tracker: for tests that look at every property or method (no bus needed).
import { loadInterfaceSpecs } from '../../src/bus/interface-spec.js';
import { managerInterface, MANAGER_INTERFACE } from '../../src/bus/manager-interface.js';
import type { InterfaceImpl } from '../../src/bus/object-server.js';
import { serviceInterface, SERVICE_INTERFACE } from '../../src/bus/service-interface.js';
import { unitInterface, UNIT_INTERFACE } from '../../src/bus/unit-interface.js';
import { UnitLookup } from '../../src/bus/unit-lookup.js';
import { UnitOperations } from '../../src/bus/unit-operations.js';
import { createLogger } from '../../src/log.js';
import { Manager } from '../../src/manager.js';
import { createProcessTracker } from '../../src/processes/index.js';
import { Unit } from '../../src/units/unit.js';
import { loadedUnit } from './loaded-unit.js';

const UINT64_MAX = 0xffff_ffff_ffff_ffffn;

export function servedInterfaces(unitName = 'demo.service'): {
  unit: Unit;
  manager: Manager;
  specs: ReturnType<typeof loadInterfaceSpecs>;
  unitImpl: InterfaceImpl;
  serviceImpl: InterfaceImpl;
  managerImpl: InterfaceImpl;
} {
  const specs = loadInterfaceSpecs();
  const unit = new Unit(loadedUnit(unitName));
  const manager = new Manager({
    scope: 'system',
    unitPath: ['/x'],
    source: { load: (n) => loadedUnit(n), list: () => [], bootUnits: () => [], invalidate: () => {} },
    isValidUnitName: () => true,
    tracker: createProcessTracker({ force: 'proc' }),
    log: createLogger('silent'),
  });
  const units = new UnitLookup(manager, async () => undefined);
  const ops = new UnitOperations({ manager, units });
  return {
    unit,
    manager,
    specs,
    unitImpl: unitInterface(specs.get(UNIT_INTERFACE)!, unit, { reverseDependencies: () => [], unitFilePreset: () => '', methods: (u) => ops.unitMethods(u) }),
    serviceImpl: serviceInterface(specs.get(SERVICE_INTERFACE)!, unit, {
      cgroupFigures: () => ({ memoryCurrent: UINT64_MAX, memoryAvailable: UINT64_MAX, cpuUsageNSec: UINT64_MAX, tasksCurrent: UINT64_MAX, controlGroupId: 0n }),
      defaultSlice: 'system.slice',
      defaultLimitNOFILE: { soft: 1024n, hard: 524288n },
      methods: (u) => ops.serviceMethods(u),
    }),
    managerImpl: managerInterface(specs.get(MANAGER_INTERFACE)!, {
      manager,
      units,
      callerUnit: async () => undefined,
      subscribe: () => {},
      unsubscribe: () => {},
      reload: () => {},
      controlGroup: '/',
      operations: ops.managerMethods(),
    }),
  };
}
