// interfaces/*.xml is the wire contract. Every member declared there must exist in systemd 252's
// own introspection (test/fixtures/oracle/introspect-*.xml, captured from a real systemd --user
// by test/oracle/capture.oracle.ts) with the same signature, argument names, directions, access
// and annotations, and in the same relative order. QueueSignalUnit / Unit.QueueSignal are v254+
// and are checked against the declaration in man/org.freedesktop.systemd1.xml of v254-stable.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseXml, type XmlElement } from '../../src/bus/xml-reader.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INTERFACES = join(ROOT, 'interfaces');
const FIXTURES = join(ROOT, 'test/fixtures/oracle');
const EMITS = 'org.freedesktop.DBus.Property.EmitsChangedSignal';

interface Member {
  kind: 'method' | 'signal' | 'property';
  name: string;
  /** methods: "direction type name" per arg; signals: "type name"; property: "type access" */
  shape: string[];
  annotations: Record<string, string>;
}

interface Iface {
  name: string;
  members: Member[];
}

function memberOf(el: XmlElement): Member | undefined {
  if (el.name !== 'method' && el.name !== 'signal' && el.name !== 'property') return undefined;
  const annotations: Record<string, string> = {};
  for (const c of el.children)
    if (c.name === 'annotation') annotations[c.attributes.name ?? ''] = c.attributes.value ?? '';
  const args = el.children.filter((c) => c.name === 'arg');
  let shape: string[];
  if (el.name === 'method')
    shape = args.map((a) => `${a.attributes.direction ?? 'in'} ${a.attributes.type} ${a.attributes.name}`);
  else if (el.name === 'signal') {
    shape = args.map((a) => `${a.attributes.type} ${a.attributes.name}`);
    for (const a of args) expect(a.attributes.direction ?? 'out', `${el.attributes.name} arg direction`).toBe('out');
  } else shape = [`${el.attributes.type} ${el.attributes.access}`];
  return { kind: el.name, name: el.attributes.name ?? '', shape, annotations };
}

function interfacesIn(text: string): Iface[] {
  const doc = parseXml(text);
  const nodes = doc.children.filter((c) => c.name === 'node');
  expect(nodes).toHaveLength(1);
  return nodes[0]!.children
    .filter((c) => c.name === 'interface')
    .map((i) => ({
      name: i.attributes.name ?? '',
      members: i.children.map(memberOf).filter((m): m is Member => m !== undefined),
    }));
}

const key = (m: Member): string => `${m.kind}:${m.name}`;

// systemd 252's introspection, all three captured objects merged by interface name
const oracleFiles = ['introspect-manager.xml', 'introspect-service-unit.xml', 'introspect-job.xml'];
const oracle = new Map<string, Iface>();
for (const f of oracleFiles) {
  for (const i of interfacesIn(readFileSync(join(FIXTURES, f), 'utf8'))) {
    const seen = oracle.get(i.name);
    if (seen) expect(i.members, `${i.name} differs between captured objects`).toEqual(seen.members);
    else oracle.set(i.name, i);
  }
}

// v254+ members, from man/org.freedesktop.systemd1.xml (v254-stable); method annotations none
const NEWER: Record<string, Member> = {
  'org.freedesktop.systemd1.Manager/method:QueueSignalUnit': {
    kind: 'method',
    name: 'QueueSignalUnit',
    shape: ['in s name', 'in s whom', 'in i signal', 'in i value'],
    annotations: {},
  },
  'org.freedesktop.systemd1.Unit/method:QueueSignal': {
    kind: 'method',
    name: 'QueueSignal',
    shape: ['in s whom', 'in i signal', 'in i value'],
    annotations: {},
  },
};
// ...and where v254 puts them (right after this member)
const NEWER_AFTER: Record<string, string> = {
  'org.freedesktop.systemd1.Manager/method:QueueSignalUnit': 'method:KillUnit',
  'org.freedesktop.systemd1.Unit/method:QueueSignal': 'method:Kill',
};

const declared = new Map<string, { file: string; iface: Iface }>();
for (const file of readdirSync(INTERFACES).filter((f) => f.endsWith('.xml')).sort()) {
  for (const iface of interfacesIn(readFileSync(join(INTERFACES, file), 'utf8'))) {
    expect(declared.has(iface.name), `${iface.name} declared twice`).toBe(false);
    declared.set(iface.name, { file, iface });
  }
}

// members the brief requires unitd to serve (a removal must be deliberate)
const REQUIRED: Record<string, string[]> = {
  'org.freedesktop.systemd1.Manager': [
    ...'GetUnit GetUnitByPID GetUnitByInvocationID GetUnitByControlGroup LoadUnit StartUnit StartUnitWithFlags StopUnit ReloadUnit RestartUnit TryRestartUnit ReloadOrRestartUnit ReloadOrTryRestartUnit KillUnit QueueSignalUnit ResetFailedUnit ResetFailed GetUnitProcesses GetJob GetJobAfter GetJobBefore CancelJob ClearJobs ListUnits ListUnitsFiltered ListUnitsByPatterns ListUnitsByNames ListJobs Subscribe Unsubscribe Reload'
      .split(' ')
      .map((n) => `method:${n}`),
    ...'UnitNew UnitRemoved JobNew JobRemoved StartupFinished UnitFilesChanged Reloading'.split(' ').map((n) => `signal:${n}`),
    ...'Version NNames NFailedUnits NJobs SystemState UnitPath DefaultTimeoutStopUSec ControlGroup'
      .split(' ')
      .map((n) => `property:${n}`),
  ],
  'org.freedesktop.systemd1.Unit': [
    ...'Start Stop Reload Restart TryRestart ReloadOrRestart ReloadOrTryRestart Kill QueueSignal ResetFailed Ref Unref Freeze Thaw'
      .split(' ')
      .map((n) => `method:${n}`),
    ...'Id Names Description LoadState ActiveState SubState FragmentPath DropInPaths UnitFileState Job NeedDaemonReload TriggeredBy LoadError InvocationID ActiveEnterTimestamp InactiveEnterTimestamp'
      .split(' ')
      .map((n) => `property:${n}`),
  ],
  'org.freedesktop.systemd1.Service': [
    'method:GetProcesses',
    'method:AttachProcesses',
    ...'Type Restart PIDFile MainPID ControlPID Result ExecStart ExecStop ExecStopPost ControlGroup KillMode KillSignal RestartKillSignal FinalKillSignal SendSIGKILL SendSIGHUP WatchdogSignal TimeoutStopUSec MemoryCurrent TasksCurrent CPUUsageNSec'
      .split(' ')
      .map((n) => `property:${n}`),
  ],
  'org.freedesktop.systemd1.Job': [
    'method:Cancel',
    'method:GetAfter',
    'method:GetBefore',
    'property:Id',
    'property:Unit',
    'property:JobType',
    'property:State',
    'property:ActivationDetails',
  ],
  'org.freedesktop.DBus.Peer': ['method:Ping', 'method:GetMachineId'],
  'org.freedesktop.DBus.Introspectable': ['method:Introspect'],
  'org.freedesktop.DBus.Properties': ['method:Get', 'method:GetAll', 'method:Set', 'signal:PropertiesChanged'],
};

describe('interfaces/*.xml against systemd 252 introspection', () => {
  it('declares the expected interfaces, one per file (standard.xml: Peer, Introspectable, Properties)', () => {
    expect([...declared.keys()].sort()).toEqual(Object.keys(REQUIRED).sort());
    for (const [name, { file }] of declared) {
      if (name.startsWith('org.freedesktop.DBus.')) expect(file).toBe('standard.xml');
      else expect(file).toBe(`${name}.xml`);
    }
  });

  it('systemd 252 itself has no QueueSignalUnit/QueueSignal (they are v254+)', () => {
    for (const k of Object.keys(NEWER)) {
      const [iface, member] = k.split('/') as [string, string];
      expect(oracle.get(iface)!.members.map(key)).not.toContain(member);
    }
  });

  for (const [name, required] of Object.entries(REQUIRED)) {
    describe(name, () => {
      it('serves the required members', () => {
        const keys = declared.get(name)!.iface.members.map(key);
        for (const r of required) expect(keys, r).toContain(r);
      });

      it('has no duplicate members', () => {
        const keys = declared.get(name)!.iface.members.map(key);
        expect(new Set(keys).size).toBe(keys.length);
      });

      it('matches systemd 252 member by member (signature, arg names, directions, access, annotations)', () => {
        const ours = declared.get(name)!.iface;
        const theirs = oracle.get(name);
        expect(theirs, `${name} in captured introspection`).toBeDefined();
        const byKey = new Map(theirs!.members.map((m) => [key(m), m]));
        for (const m of ours.members) {
          const expected = NEWER[`${name}/${key(m)}`] ?? byKey.get(key(m));
          expect(expected, `${name}.${m.name} (${m.kind}) exists in systemd`).toBeDefined();
          expect(m, `${name}.${m.name}`).toEqual(expected);
        }
      });

      it('property annotations: none means "emits value"; otherwise const/false/invalidates', () => {
        for (const m of declared.get(name)!.iface.members) {
          if (m.kind !== 'property') continue;
          const v = m.annotations[EMITS];
          if (v !== undefined) expect(['const', 'false', 'invalidates']).toContain(v);
        }
      });

      it("keeps systemd's member order", () => {
        const order = oracle.get(name)!.members.map(key);
        const ours = declared.get(name)!.iface.members.map(key);
        const positions = ours.map((k) => {
          const after = NEWER_AFTER[`${name}/${k}`];
          // a v254 member sorts right after its v252 neighbour
          return after !== undefined ? order.indexOf(after) + 0.5 : order.indexOf(k);
        });
        expect(positions.every((p) => p >= 0)).toBe(true);
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
      });
    });
  }
});
