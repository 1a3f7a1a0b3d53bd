// A real dbus-daemon on a private socket for one test file.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
export async function startPrivateBus() {
    const dir = mkdtempSync(join(tmpdir(), 'unitd-test-bus-'));
    const socket = join(dir, 'system_bus_socket');
    const config = join(dir, 'bus.conf');
    writeFileSync(config, `<busconfig><type>system</type><listen>unix:path=${socket}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_type="method_call"/><allow send_type="signal"/>
<allow send_requested_reply="true" send_type="method_return"/><allow send_requested_reply="true" send_type="error"/>
<allow receive_type="method_call"/><allow receive_type="method_return"/><allow receive_type="error"/>
<allow receive_type="signal"/><allow send_destination="org.freedesktop.DBus"/></policy></busconfig>`);
    const child = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--nopidfile', '--print-address=1'], {
        stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`dbus-daemon exited ${code}`)));
        createInterface({ input: child.stdout }).once('line', () => resolve());
    });
    child.removeAllListeners('exit');
    return {
        address: `unix:path=${socket}`,
        dir,
        stop: () => new Promise((resolve) => {
            const done = () => {
                rmSync(dir, { recursive: true, force: true });
                resolve();
            };
            if (child.exitCode !== null || child.signalCode !== null)
                return done();
            child.once('exit', done);
            child.kill('SIGTERM');
        }),
    };
}
