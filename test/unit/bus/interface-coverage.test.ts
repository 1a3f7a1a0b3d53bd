// Every property in interfaces/*.xml has a getter whose value fits the declared type, and every
// method has a handler: the XML is the wire contract and the code must serve all of it.
import { describe, expect, it } from 'vitest';
import { loadInterfaceSpecs } from '../../../src/bus/interface-spec.js';
import { MANAGER_INTERFACE } from '../../../src/bus/manager-interface.js';
import { SERVICE_INTERFACE } from '../../../src/bus/service-interface.js';
import { UNIT_INTERFACE } from '../../../src/bus/unit-interface.js';
import type { InterfaceImpl } from '../../../src/bus/object-server.js';
import { Job } from '../../../src/jobs/job.js';
import { jobInterface } from '../../../src/bus/job-interface.js';
import { servedInterfaces } from '../../helpers/served-interfaces.js';
import { wireTypeProblem } from '../../helpers/wire-check.js';

const specs = loadInterfaceSpecs();

function checkImpl(impl: InterfaceImpl): void {
  for (const prop of impl.spec.properties.values()) {
    const getter = impl.getters[prop.name];
    expect(getter, `${impl.spec.name}.${prop.name} has a getter`).toBeTypeOf('function');
    const problem = wireTypeProblem(prop.type, getter!());
    expect(problem, `${impl.spec.name}.${prop.name} (${prop.type})`).toBeNull();
  }
  for (const method of impl.spec.methods.values()) {
    expect(impl.methods[method.name], `${impl.spec.name}.${method.name} has a handler`).toBeTypeOf('function');
  }
  for (const name of Object.keys(impl.getters)) {
    expect(impl.spec.properties.has(name), `getter ${impl.spec.name}.${name} is declared in the XML`).toBe(true);
  }
}

describe('interfaces/*.xml is served in full', () => {
  const served = servedInterfaces();

  it('declares the interfaces unitd serves', () => {
    for (const name of [MANAGER_INTERFACE, UNIT_INTERFACE, SERVICE_INTERFACE, 'org.freedesktop.systemd1.Job', 'org.freedesktop.DBus.Properties', 'org.freedesktop.DBus.Peer', 'org.freedesktop.DBus.Introspectable']) {
      expect(specs.has(name), name).toBe(true);
    }
  });

  it('Unit: a getter of the right type for every property, a handler for every method', () => {
    checkImpl(served.unitImpl);
  });

  it('Service: likewise, with systemd defaults where nothing is configured', () => {
    const impl = served.serviceImpl;
    checkImpl(impl);
    expect(impl.getters.KillSignal!()).toBe(15);
    expect(impl.getters.RestartKillSignal!()).toBe(15);
    expect(impl.getters.FinalKillSignal!()).toBe(9);
    expect(impl.getters.TimeoutStopUSec!()).toBe(90_000_000n);
    expect(impl.getters.MainPID!()).toBe(0);
    expect(impl.getters.UID!()).toBe(4294967295);
  });

  it('Job: a getter of the right type for every property', () => {
    const job = new Job(7, served.unit, 'start', false, ':1.5');
    const spec = specs.get('org.freedesktop.systemd1.Job')!;
    checkImpl(jobInterface(spec, job, Object.fromEntries([...spec.methods.keys()].map((m) => [m, () => []]))));
  });

  it('Manager: likewise', () => {
    checkImpl(served.managerImpl);
  });
});
