// A thin dbus-next client for the bench: raw method calls (no proxies, no introspection), the
// JobRemoved subscription, and property reads. The same client code drives unitd and systemd.
import dbus from 'dbus-next';
import { connectBus } from '../../src/bus/connect.js';

export type MessageBus = ReturnType<typeof dbus.sessionBus>;
type DBusMessage = InstanceType<typeof dbus.Message>;

export const DEST = 'org.freedesktop.systemd1';
export const MANAGER_PATH = '/org/freedesktop/systemd1';
export const MANAGER_IFACE = 'org.freedesktop.systemd1.Manager';
const METHOD_RETURN = 2;
const SIGNAL = 4;

export interface JobRemoved {
  id: number;
  job: string;
  unit: string;
  result: string;
  /** bench clock (ms) when the signal arrived */
  at: number;
}

export class Client {
  private readonly jobWaiters = new Map<string, (j: JobRemoved) => void>();
  private readonly early = new Map<string, JobRemoved>();

  private constructor(readonly bus: MessageBus, private readonly clock: () => number) {
    bus.on('message', (msg: DBusMessage) => {
      if (msg.type !== SIGNAL || msg.member !== 'JobRemoved' || msg.interface !== MANAGER_IFACE) return;
      const [id, job, unit, result] = msg.body as [number, string, string, string];
      const ev: JobRemoved = { id, job, unit, result, at: this.clock() };
      const w = this.jobWaiters.get(job);
      if (w) {
        this.jobWaiters.delete(job);
        w(ev);
      } else {
        this.early.set(job, ev);
      }
    });
  }

  static async connect(address: string, clock: () => number, timeoutMs = 5000): Promise<Client> {
    return new Client(await connectBus(address, timeoutMs), clock);
  }

  async call(path: string, iface: string, member: string, signature = '', body: unknown[] = [], destination = DEST): Promise<unknown[]> {
    const reply = await this.bus.call(new dbus.Message({ destination, path, interface: iface, member, signature, body }));
    if (!reply || reply.type !== METHOD_RETURN) throw new Error(`${member}: no method return`);
    return reply.body as unknown[];
  }

  ping(): Promise<unknown[]> {
    return this.call(MANAGER_PATH, 'org.freedesktop.DBus.Peer', 'Ping');
  }

  manager(member: string, signature = '', body: unknown[] = []): Promise<unknown[]> {
    return this.call(MANAGER_PATH, MANAGER_IFACE, member, signature, body);
  }

  async getProperty(path: string, iface: string, prop: string): Promise<unknown> {
    const [v] = await this.call(path, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [iface, prop]);
    return (v as { value: unknown }).value;
  }

  async unitPath(name: string): Promise<string> {
    const [p] = await this.manager('LoadUnit', 's', [name]);
    return p as string;
  }

  /** AddMatch for the manager's JobRemoved, then Subscribe (systemd only emits to subscribers) */
  async subscribeJobs(): Promise<void> {
    await this.call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's',
      [`type='signal',interface='${MANAGER_IFACE}',member='JobRemoved',path='${MANAGER_PATH}'`], 'org.freedesktop.DBus');
    await this.manager('Subscribe');
  }

  /** resolves when JobRemoved for this job path arrives (or already arrived) */
  jobRemoved(job: string, timeoutMs = 60_000): Promise<JobRemoved> {
    const seen = this.early.get(job);
    if (seen) {
      this.early.delete(job);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.jobWaiters.delete(job);
        reject(new Error(`JobRemoved for ${job} not seen within ${timeoutMs} ms`));
      }, timeoutMs);
      this.jobWaiters.set(job, (j) => {
        clearTimeout(timer);
        resolve(j);
      });
    });
  }

  /** runs a job method (StartUnit/StopUnit) and waits for its JobRemoved */
  async job(member: string, unit: string, timeoutMs?: number): Promise<{ t0: number; removed: JobRemoved }> {
    const t0 = this.clock();
    const [job] = await this.manager(member, 'ss', [unit, 'replace']);
    const removed = await this.jobRemoved(job as string, timeoutMs);
    return { t0, removed };
  }

  disconnect(): void {
    this.early.clear();
    this.bus.disconnect();
  }
}
