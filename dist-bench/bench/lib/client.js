// A thin dbus-next client for the bench: raw method calls (no proxies, no introspection), the
// JobRemoved subscription, and property reads. The same client code drives unitd and systemd.
import dbus from 'dbus-next';
export const DEST = 'org.freedesktop.systemd1';
export const MANAGER_PATH = '/org/freedesktop/systemd1';
export const MANAGER_IFACE = 'org.freedesktop.systemd1.Manager';
const METHOD_RETURN = 2;
const SIGNAL = 4;
export class Client {
    bus;
    clock;
    jobWaiters = new Map();
    early = new Map();
    constructor(bus, clock) {
        this.bus = bus;
        this.clock = clock;
        bus.on('message', (msg) => {
            if (msg.type !== SIGNAL || msg.member !== 'JobRemoved' || msg.interface !== MANAGER_IFACE)
                return;
            const [id, job, unit, result] = msg.body;
            const ev = { id, job, unit, result, at: this.clock() };
            const w = this.jobWaiters.get(job);
            if (w) {
                this.jobWaiters.delete(job);
                w(ev);
            }
            else {
                this.early.set(job, ev);
            }
        });
    }
    static connect(address, clock, timeoutMs = 5000) {
        return new Promise((resolve, reject) => {
            const bus = dbus.sessionBus({ busAddress: address });
            const timer = setTimeout(() => {
                bus.disconnect();
                reject(new Error(`no answer from the bus at ${address}`));
            }, timeoutMs);
            bus.once('connect', () => {
                clearTimeout(timer);
                resolve(new Client(bus, clock));
            });
            bus.once('error', (err) => {
                clearTimeout(timer);
                reject(err);
            });
        });
    }
    async call(path, iface, member, signature = '', body = [], destination = DEST) {
        const reply = await this.bus.call(new dbus.Message({ destination, path, interface: iface, member, signature, body }));
        if (!reply || reply.type !== METHOD_RETURN)
            throw new Error(`${member}: no method return`);
        return reply.body;
    }
    ping() {
        return this.call(MANAGER_PATH, 'org.freedesktop.DBus.Peer', 'Ping');
    }
    manager(member, signature = '', body = []) {
        return this.call(MANAGER_PATH, MANAGER_IFACE, member, signature, body);
    }
    async getProperty(path, iface, prop) {
        const [v] = await this.call(path, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [iface, prop]);
        return v.value;
    }
    async unitPath(name) {
        const [p] = await this.manager('LoadUnit', 's', [name]);
        return p;
    }
    /** AddMatch for the manager's JobRemoved, then Subscribe (systemd only emits to subscribers) */
    async subscribeJobs() {
        await this.call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's', [`type='signal',interface='${MANAGER_IFACE}',member='JobRemoved',path='${MANAGER_PATH}'`], 'org.freedesktop.DBus');
        await this.manager('Subscribe');
    }
    /** resolves when JobRemoved for this job path arrives (or already arrived) */
    jobRemoved(job, timeoutMs = 60_000) {
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
    async job(member, unit, timeoutMs) {
        const t0 = this.clock();
        const [job] = await this.manager(member, 'ss', [unit, 'replace']);
        const removed = await this.jobRemoved(job, timeoutMs);
        return { t0, removed };
    }
    disconnect() {
        this.early.clear();
        this.bus.disconnect();
    }
}
