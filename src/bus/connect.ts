// Connecting to a bus with dbus-next, as a promise that settles once Hello is answered.
import dbus from 'dbus-next';

export type MessageBus = ReturnType<typeof dbus.sessionBus>;

export function connectBus(address: string, timeoutMs = 5000): Promise<MessageBus> {
  return new Promise((resolve, reject) => {
    let bus: MessageBus;
    try {
      bus = dbus.sessionBus({ busAddress: address });
    } catch (err) {
      reject(err as Error);
      return;
    }
    const timer = setTimeout(() => {
      bus.disconnect();
      reject(new Error(`no answer from the bus at ${address}`));
    }, timeoutMs);
    bus.once('connect', () => {
      clearTimeout(timer);
      resolve(bus);
    });
    bus.once('error', (err: Error) => {
      clearTimeout(timer);
      try {
        bus.disconnect();
      } catch {
        // already gone
      }
      reject(err);
    });
  });
}
