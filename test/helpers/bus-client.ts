// A dbus-next client connection for tests: calls with explicit signatures, and a record of the
// signals it sees (match rules added by the test).
import dbus from 'dbus-next';
import { connectBus } from '../../src/bus/connect.js';

type MessageBus = Awaited<ReturnType<typeof connectBus>>;
type Message = InstanceType<typeof dbus.Message>;

export interface BusClient {
  bus: MessageBus;
  signals: Message[];
  call(path: string, iface: string, member: string, signature?: string, body?: unknown[]): Promise<unknown[]>;
  addMatch(rule: string): Promise<void>;
  close(): void;
}

export async function connectClient(address: string): Promise<BusClient> {
  const bus = await connectBus(address);
  const signals: Message[] = [];
  bus.on('message', (m: Message) => {
    if (m.type === dbus.MessageType.SIGNAL) signals.push(m);
  });
  const call = async (path: string, iface: string, member: string, signature = '', body: unknown[] = []): Promise<unknown[]> => {
    const reply = await bus.call(new dbus.Message({ destination: 'org.freedesktop.systemd1', path, interface: iface, member, signature, body }));
    return reply?.body ?? [];
  };
  const addMatch = async (rule: string): Promise<void> => {
    await bus.call(new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'AddMatch', signature: 's', body: [rule] }));
  };
  return { bus, signals, call, addMatch, close: () => bus.disconnect() };
}

/** Waits until pred holds (checked every 20 ms), up to timeoutMs. */
export async function eventually<T>(fn: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
