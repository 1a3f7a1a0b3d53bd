// unitd's message encoder must produce exactly the bytes dbus-next's own marshaller produces, for
// every property value unitd serves and for randomly shaped messages; and it must hand back what it
// does not cover (file descriptors, wrong value shapes) instead of guessing.
import { createRequire } from 'node:module';
import dbus from 'dbus-next';
import { describe, expect, it } from 'vitest';
import { encodeMessage, type OutgoingMessage } from '../../../src/bus/wire-encoder.js';
import { toWire, typeNode } from '../../../src/bus/wire-values.js';
import type { InterfaceImpl } from '../../../src/bus/object-server.js';
import { servedInterfaces } from '../../helpers/served-interfaces.js';

const { Variant } = dbus;
const require = createRequire(import.meta.url);
const { marshallMessage } = require('dbus-next/lib/marshall-compat') as { marshallMessage: (m: object) => [Buffer, unknown[]] };

/** dbus-next's bytes for the message (it rewrites the body it is given, so it gets a copy) */
function reference(msg: OutgoingMessage): Buffer {
  return marshallMessage({ ...msg, body: msg.body ? [...msg.body] : [] })[0];
}

function expectSameBytes(msg: OutgoingMessage): void {
  const ours = encodeMessage(msg);
  expect(ours, `encoded ${msg.signature}`).not.toBeNull();
  expect(ours!.toString('hex')).toBe(reference(msg).toString('hex'));
}

const UINT64_MAX = 0xffff_ffff_ffff_ffffn;

function allProperties(impl: InterfaceImpl): Record<string, InstanceType<typeof Variant>> {
  const out: Record<string, InstanceType<typeof Variant>> = {};
  for (const prop of impl.spec.properties.values()) out[prop.name] = new Variant(prop.type, toWire(typeNode(prop.type), impl.getters[prop.name]!()));
  return out;
}

describe('wire encoder: the bytes dbus-next would send', () => {
  const served = servedInterfaces();
  const impls: InterfaceImpl[] = [served.unitImpl, served.serviceImpl, served.managerImpl];

  it('GetAll replies and PropertiesChanged signals of every interface unitd serves', () => {
    for (const impl of impls) {
      const props = allProperties(impl);
      expectSameBytes({ type: 2, flags: 1, serial: 77, replySerial: 12, destination: ':1.42', sender: ':1.0', signature: 'a{sv}', body: [props] });
      expectSameBytes({
        type: 4, serial: 1234567, path: '/org/freedesktop/systemd1/unit/demo_2eservice', interface: 'org.freedesktop.DBus.Properties',
        member: 'PropertiesChanged', signature: 'sa{sv}as', body: [impl.spec.name, props, ['Conditions', 'Asserts']],
      });
      // one property at a time, so each value also starts at every alignment the others leave
      for (const [name, v] of Object.entries(props)) {
        expectSameBytes({ type: 2, serial: 9, replySerial: 3, destination: ':1.7', signature: 'v', body: [v] });
        expectSameBytes({ type: 2, serial: 9, replySerial: 3, destination: ':1.7', signature: 'sv', body: [name, v] });
      }
    }
  });

  it('headers: calls, signals, errors, empty bodies, flags', () => {
    expectSameBytes({ type: 1, flags: 0, serial: 1, path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'Hello', destination: 'org.freedesktop.DBus' });
    expectSameBytes({ type: 2, flags: 1, serial: 2, replySerial: 1 });
    expectSameBytes({ type: 3, serial: 3, replySerial: 2, errorName: 'org.freedesktop.systemd1.NoSuchUnit', destination: ':1.9', signature: 's', body: ['Unit x.service not loaded.'] });
    expectSameBytes({ type: 4, serial: 4, path: '/org/freedesktop/systemd1', interface: 'org.freedesktop.systemd1.Manager', member: 'JobRemoved', signature: 'uoss', body: [7, '/org/freedesktop/systemd1/job/7', 'x.service', 'done'] });
    expectSameBytes({
      type: 2, serial: 5, replySerial: 4, signature: 'a(ssssssouso)',
      body: [[['a.service', 'A', 'loaded', 'active', 'running', '', '/org/freedesktop/systemd1/unit/a_2eservice', 0, '', '/']]],
    });
  });

  it('random messages: every type, nesting, alignment and UTF-8', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const BASIC = 'ybnqiuxtdsog';
    const strings = ['', 'a', 'héllo wörld', '日本語', 'x'.repeat(300), 'emoji 🙂'];
    const randomType = (depth: number): string => {
      const k = depth > 2 ? 0 : rnd(6);
      if (k === 1) return 'a' + randomType(depth + 1);
      if (k === 2) return `a{${'so'[rnd(2)]}${randomType(depth + 1)}}`;
      if (k === 3) return `(${randomType(depth + 1)}${rnd(2) ? randomType(depth + 1) : ''})`;
      if (k === 4) return 'v';
      return BASIC[rnd(BASIC.length)]!;
    };
    const basicValue = (c: string): unknown => {
      switch (c) {
        case 'y': return rnd(256);
        case 'b': return rnd(2) === 1;
        case 'n': return rnd(65536) - 32768;
        case 'q': return rnd(65536);
        case 'i': return rnd(0x7fffffff) - rnd(0x7fffffff);
        case 'u': return rnd(0x7fffffff) * 2;
        case 'x': return BigInt(rnd(0x7fffffff)) * -BigInt(rnd(0x7fffffff)) * 3n;
        case 't': return rnd(2) ? UINT64_MAX : BigInt(rnd(0x7fffffff));
        case 'd': return rnd(100000) / 7;
        case 's': return strings[rnd(strings.length)]!;
        case 'o': return ['/', '/org/freedesktop/systemd1', '/a/b_2ec'][rnd(3)]!;
        default: return ['', 's', 'a{sv}', '(ii)'][rnd(4)]!;
      }
    };
    const value = (sig: string): unknown => {
      const node = typeNode(sig);
      if (node.kind === 'basic') return basicValue(sig);
      if (node.kind === 'variant') {
        const inner = randomType(2);
        return new Variant(inner, value(inner));
      }
      if (node.kind === 'struct') return splitTypes(sig.slice(1, -1)).map((t) => value(t));
      if (node.kind === 'dict') {
        const [k, v] = splitTypes(sig.slice(2, -1)) as [string, string];
        const out: Record<string, unknown> = {};
        for (let i = rnd(4); i > 0; i--) out[String(basicValue(k)) + i] = value(v);
        return out;
      }
      const el = sig.slice(1);
      if (el === 'y' && rnd(2)) return Buffer.from([1, 2, 3, rnd(256)]);
      return Array.from({ length: rnd(4) }, () => value(el));
    };
    for (let i = 0; i < 2000; i++) {
      const types = Array.from({ length: 1 + rnd(4) }, () => randomType(0));
      expectSameBytes({ type: 2, serial: 1 + rnd(1000), replySerial: 1 + rnd(1000), destination: ':1.5', signature: types.join(''), body: types.map(value) });
    }
  });

  it('hands back what it does not encode', () => {
    expect(encodeMessage({ type: 2, serial: 1, signature: 'h', body: [3] })).toBeNull();
    expect(encodeMessage({ type: 2, serial: 1, signature: 'v', body: ['not a variant'] })).toBeNull();
    expect(encodeMessage({ type: 2, serial: 1, signature: 's', body: [] })).toBeNull();
    expect(encodeMessage({ type: 2, serial: 1, signature: 'u', body: [-1] })).toBeNull();
    expect(encodeMessage({ type: 2, serial: 1, signature: 's', body: ['a\0b'] })).toBeNull();
    expect(encodeMessage({ type: 2, serial: 1, signature: 'a{us}', body: [{ 1: 'x' }] })).toBeNull();
    expect(encodeMessage({ type: 2, serial: 0, signature: '', body: [] })).toBeNull();
  });
});

/** splits a signature into its complete types */
function splitTypes(sig: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < sig.length) {
    let j = i;
    let depth = 0;
    do {
      const c = sig[j]!;
      if (c === '(' || c === '{') depth++;
      else if (c === ')' || c === '}') depth--;
      j++;
    } while (depth > 0 || sig[j - 1] === 'a');
    out.push(sig.slice(i, j));
    i = j;
  }
  return out;
}
