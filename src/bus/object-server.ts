// The object server: routes every method call on our connection to an object resolved on demand
// from its path, serves the standard interfaces (Peer, Introspectable, Properties) for all of
// them, checks signatures against interfaces/*.xml, and turns BusError into D-Bus errors.
// It knows D-Bus and nothing of units or processes.
import { readBoundedFile } from '../util/bounded-read.js';
import dbus from 'dbus-next';
import type { Logger } from 'pino';
import { requireMemberAccess } from './authorization.js';
import { BusError, Errors } from './errors.js';
import { renderIntrospection, type InterfaceSpec, type PropertySpec } from './interface-spec.js';
import { toWire, typeNode } from './wire-values.js';

type DBusMessage = InstanceType<typeof dbus.Message>;
type MessageBus = ReturnType<typeof dbus.sessionBus>;

const { Message, Variant } = dbus;
const METHOD_CALL = 1;
const NO_REPLY_EXPECTED = 1;

export const PEER = 'org.freedesktop.DBus.Peer';
export const INTROSPECTABLE = 'org.freedesktop.DBus.Introspectable';
export const PROPERTIES = 'org.freedesktop.DBus.Properties';

/** Who is calling: the bus daemon knows, we ask it once per sender and cache the answer. */
export interface CallContext {
  readonly sender: string;
  readonly member: string;
  callerUid(): Promise<number>;
  callerPid(): Promise<number>;
  /** a value about the caller computed once per connection (forgotten when it disconnects) */
  memo<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

export type MethodHandler = (ctx: CallContext, args: unknown[]) => unknown[] | Promise<unknown[]>;

/** One interface of one object: property getters and method handlers over some model object. */
export interface InterfaceImpl {
  readonly spec: InterfaceSpec;
  readonly getters: Readonly<Record<string, () => unknown>>;
  readonly methods: Readonly<Record<string, MethodHandler>>;
}

export interface BusObject {
  /** non-standard interfaces, in the order systemd lists them (type interface before Unit for signals) */
  interfaces: InterfaceImpl[];
  children(): string[];
}

/** Returns the object at a path, null when there is none; may throw BusError (e.g. a bad unit name). */
export type ObjectResolver = (path: string, ctx: CallContext) => BusObject | null | Promise<BusObject | null>;

// dbus-next's typings declare newError's first parameter as a string; it is the call message
function errorReply(call: DBusMessage, name: string, text: string): DBusMessage {
  return Message.newError(call as unknown as string, name, text);
}

function readMachineId(): string {
  for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const read = readBoundedFile(f);
      const id = read.kind === 'regular' ? read.data.toString('utf8').trim() : '';
      if (/^[0-9a-f]{32}$/.test(id)) return id;
    } catch {
      // try the next one
    }
  }
  return '';
}

export class ObjectServer {
  private readonly standard: InterfaceSpec[];
  /** per caller (unique bus name): values computed once for its connection, credentials included */
  private readonly callerMemo = new Map<string, Map<string, Promise<unknown>>>();
  private machineId: string | null = null;

  constructor(
    readonly bus: MessageBus,
    readonly specs: Map<string, InterfaceSpec>,
    private readonly resolve: ObjectResolver,
    private readonly log: Logger,
  ) {
    this.standard = [PEER, INTROSPECTABLE, PROPERTIES].map((n) => {
      const spec = specs.get(n);
      if (!spec) throw new Error(`interfaces/ lacks ${n}`);
      return spec;
    });
  }

  spec(name: string): InterfaceSpec {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`interfaces/ lacks ${name}`);
    return spec;
  }

  start(): void {
    this.bus.addMethodHandler((msg: DBusMessage) => {
      if (msg.type !== METHOD_CALL) return false;
      void this.dispatch(msg);
      return true;
    });
    this.bus.on('message', (msg: DBusMessage) => {
      // a client that went away takes its cached credentials with it
      if (msg.type === 4 && msg.member === 'NameOwnerChanged' && msg.body[2] === '') {
        this.callerMemo.delete(String(msg.body[0]));
      }
    });
  }

  /** Emits a signal declared in interfaces/*.xml, with the declared signature. */
  emitSignal(path: string, iface: string, member: string, body: unknown[]): void {
    const signal = this.spec(iface).signals.get(member);
    if (!signal) throw new Error(`${iface}.${member} is not a declared signal`);
    const args = signal.args.map((a, i) => toWire(typeNode(a.type), body[i]));
    this.sendSignal(Message.newSignal(path, iface, member, signal.signature, args));
  }

  /**
   * Sends a signal message, writing out pending log lines first: the log is written in batches
   * (src/log.ts), and a line about a change must be readable by the time the signal announcing
   * it is (a client that saw JobRemoved finds the job's lines).
   */
  sendSignal(message: InstanceType<typeof Message>): void {
    this.flushLog();
    this.bus.send(message);
  }

  /** Writes out pending log lines now (see sendSignal). */
  flushLog(): void {
    this.log.flush();
  }

  emitPropertiesChanged(path: string, iface: string, changed: Map<string, unknown>, invalidated: string[]): void {
    const props = this.spec(iface).properties;
    const dict: Record<string, unknown> = {};
    for (const [name, value] of changed) dict[name] = this.variant(props.get(name)!, value);
    this.sendSignal(Message.newSignal(path, PROPERTIES, 'PropertiesChanged', 'sa{sv}as', [iface, dict, invalidated]));
  }

  private variant(prop: PropertySpec, value: unknown): InstanceType<typeof Variant> {
    return new Variant(prop.type, toWire(typeNode(prop.type), value));
  }

  private context(msg: DBusMessage): CallContext {
    const sender = msg.sender ?? '';
    const memo = <T>(key: string, compute: () => Promise<T>): Promise<T> => {
      let forSender = this.callerMemo.get(sender);
      if (!forSender) this.callerMemo.set(sender, (forSender = new Map()));
      let p = forSender.get(key) as Promise<T> | undefined;
      if (!p) {
        p = compute();
        forSender.set(key, p);
        p.catch(() => forSender!.delete(key));
      }
      return p;
    };
    const creds = (): Promise<[number, number]> => memo('credentials', () => this.askCredentials(sender));
    return {
      sender,
      member: msg.member ?? '',
      callerUid: async () => (await creds())[0],
      callerPid: async () => (await creds())[1],
      memo,
    };
  }

  /**
   * The caller's uid and PID as the bus daemon recorded them when the connection authenticated
   * (SO_PEERCRED at connect): one GetConnectionCredentials call, as sd-bus makes when it needs
   * more than one field (bus_get_name_creds_dbus1). The uid is fixed for the connection's life;
   * the PID names the process that connected, which may since have exec'd or gone.
   */
  private async askCredentials(name: string): Promise<[number, number]> {
    const reply = await this.bus.call(
      new Message({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'GetConnectionCredentials',
        signature: 's',
        body: [name],
      }),
    );
    const fields = (reply?.body[0] ?? {}) as Record<string, { value: unknown } | undefined>;
    const uid = fields.UnixUserID?.value;
    const pid = fields.ProcessID?.value;
    // a bus that cannot say who the caller is: nobody we could trust
    if (typeof uid !== 'number') throw Errors.accessDenied();
    return [uid, typeof pid === 'number' ? pid : 0];
  }

  private async dispatch(msg: DBusMessage): Promise<void> {
    const wantsReply = (msg.flags & NO_REPLY_EXPECTED) === 0;
    try {
      const [signature, body] = await this.call(msg);
      if (wantsReply) this.bus.send(Message.newMethodReturn(msg, signature, body));
    } catch (err) {
      if (!wantsReply) return;
      if (err instanceof BusError) {
        this.bus.send(errorReply(msg, err.errorName, err.message));
      } else {
        this.log.error({ err, path: msg.path, interface: msg.interface, member: msg.member }, 'method handler failed');
        this.bus.send(errorReply(msg, 'org.freedesktop.DBus.Error.Failed', (err as Error)?.message ?? String(err)));
      }
    }
  }

  private async call(msg: DBusMessage): Promise<[string, unknown[]]> {
    const path = msg.path ?? '/';
    const member = msg.member ?? '';
    const iface = msg.interface ?? '';
    const ctx = this.context(msg);
    const object = await this.resolve(path, ctx);
    if (!object) throw Errors.unknownObject(`Unknown object '${path}'.`);

    if (iface === PEER || iface === INTROSPECTABLE || iface === PROPERTIES || iface === '') {
      const std = this.callStandard(msg, ctx, object, iface, member);
      if (std) return await std;
    }
    const impl = iface === '' ? object.interfaces.find((i) => i.spec.methods.has(member)) : object.interfaces.find((i) => i.spec.name === iface);
    const method = impl?.spec.methods.get(member);
    const handler = impl?.methods[member];
    if (!impl || !method || !handler) {
      throw Errors.unknownMethod(`Unknown method ${member} or interface ${iface || '(null)'}.`);
    }
    this.checkSignature(msg, impl.spec.name, member, method.inSignature);
    const out = await handler(ctx, msg.body);
    const outTypes = method.args.filter((a) => a.direction === 'out');
    return [method.outSignature, outTypes.map((a, i) => toWire(typeNode(a.type), out[i]))];
  }

  private checkSignature(msg: DBusMessage, iface: string, member: string, expected: string): void {
    if ((msg.signature ?? '') !== expected) {
      throw Errors.invalidArgs(`Invalid arguments '${msg.signature ?? ''}' to call ${iface}.${member}(), expecting '${expected}'.`);
    }
  }

  /** Peer, Introspectable and Properties; null when the member is not one of theirs. */
  private callStandard(msg: DBusMessage, ctx: CallContext, object: BusObject, iface: string, member: string): [string, unknown[]] | Promise<[string, unknown[]]> | null {
    const is = (i: string, m: string): boolean => (iface === i || iface === '') && member === m;
    if (is(PEER, 'Ping')) {
      this.checkSignature(msg, PEER, member, '');
      return ['', []];
    }
    if (is(PEER, 'GetMachineId')) {
      this.checkSignature(msg, PEER, member, '');
      this.machineId ??= readMachineId();
      return ['s', [this.machineId]];
    }
    if (is(INTROSPECTABLE, 'Introspect')) {
      this.checkSignature(msg, INTROSPECTABLE, member, '');
      const specs = object.interfaces.length > 0 ? [...this.standard, ...object.interfaces.map((i) => i.spec)] : this.standard;
      return ['s', [renderIntrospection(specs, object.children())]];
    }
    if (is(PROPERTIES, 'Get')) {
      this.checkSignature(msg, PROPERTIES, member, 'ss');
      const [ifaceName, prop] = msg.body as [string, string];
      const impl = object.interfaces.find((i) => i.spec.name === ifaceName);
      const spec = impl?.spec.properties.get(prop);
      if (!impl || !spec) throw Errors.unknownProperty(`Unknown interface ${ifaceName} or property ${prop}.`);
      return ['v', [this.variant(spec, this.read(impl, prop))]];
    }
    if (is(PROPERTIES, 'GetAll')) {
      this.checkSignature(msg, PROPERTIES, member, 's');
      const [ifaceName] = msg.body as [string];
      return ['a{sv}', [this.getAll(object, ifaceName)]];
    }
    if (is(PROPERTIES, 'Set')) {
      this.checkSignature(msg, PROPERTIES, member, 'ssv');
      const [ifaceName, prop, value] = msg.body as [string, string, { signature?: string }];
      const spec = object.interfaces.find((i) => i.spec.name === ifaceName)?.spec.properties.get(prop);
      if (!spec) throw Errors.unknownProperty(`Unknown interface ${ifaceName} or property ${prop}.`);
      // sd-bus's order (bus-objects.c property_get_set_callbacks_run): writable, the value's
      // type, then the caller's privilege (check_access), then the setter
      if (spec.access === 'read') throw Errors.propertyReadOnly(`Property '${prop}' is not writable.`);
      if (value?.signature !== spec.type) {
        throw Errors.invalidArgs(`Incorrect parameters for property '${prop}', expected '${spec.type}', got '${value?.signature ?? ''}'.`);
      }
      return requireMemberAccess(ctx, ifaceName, prop).then(() => {
        // the writable properties systemd has (LogLevel, LogTarget, ServiceWatchdogs) change
        // things unitd does not have; saying so beats pretending the change was made
        throw Errors.notSupported(`Setting ${ifaceName}.${prop} is not supported by unitd.`);
      });
    }
    return null;
  }

  private read(impl: InterfaceImpl, prop: string): unknown {
    const getter = impl.getters[prop];
    if (!getter) throw new Error(`no getter for ${impl.spec.name}.${prop}`);
    return getter();
  }

  /** GetAll: "" means every interface of the object, in order (sd-bus does the same). */
  private getAll(object: BusObject, ifaceName: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let impls = object.interfaces;
    if (ifaceName !== '') {
      impls = impls.filter((i) => i.spec.name === ifaceName);
      if (impls.length === 0) {
        if (this.standard.some((s) => s.name === ifaceName)) return out;
        throw Errors.unknownInterface(ifaceName);
      }
    }
    for (const impl of impls) {
      for (const spec of impl.spec.properties.values()) {
        out[spec.name] = this.variant(spec, this.read(impl, spec.name));
      }
    }
    return out;
  }
}
