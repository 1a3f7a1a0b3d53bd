// Connecting to a bus with dbus-next, as a promise that settles once Hello is answered.
import dbus from 'dbus-next';

const { Message, DBusError } = dbus;

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

/**
 * The PID of the process that owns `name` on the bus (the bus driver answers for its own name,
 * org.freedesktop.DBus, too); null when nobody owns it. Lets a refusal name the other instance.
 */
export async function ownerPid(bus: MessageBus, name: string): Promise<number | null> {
  try {
    const reply = await bus.call(
      new Message({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'GetConnectionUnixProcessID',
        signature: 's',
        body: [name],
      }),
    );
    return Number(reply?.body[0]);
  } catch (err) {
    if (err instanceof DBusError && err.type === 'org.freedesktop.DBus.Error.NameHasNoOwner') return null;
    throw err;
  }
}
