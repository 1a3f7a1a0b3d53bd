// --system-manager: unitd is this system's service manager. systemctl (system scope, local
// transport) first checks sd_booted(), i.e. that the directory /run/systemd/system/ exists, and
// refuses to talk to any bus without it. The system manager creates it at start.
//
// Creating that directory on an ordinary host would make every tool (invoke-rc.d,
// deb-systemd-invoke, ...) believe systemd is PID 1, so the flag is refused unless unitd really is
// the system's init: PID 1 of its PID namespace, or a payload its container manager marked with the
// `container` environment variable (podman, systemd-nspawn and LXC set it), e.g. under a minimal
// init such as catatonit. Marker files such as /.dockerenv are NOT trusted: hosts built from
// container images keep them (this project's CI VMs have one). /run/systemd/private is never
// created: root's systemctl tries it first and falls back to the system bus when it is absent.
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';

export const BOOTED_DIR = '/run/systemd/system';

export interface SystemFacts {
  pid: number;
  /** the `container` environment variable (set by podman, systemd-nspawn, LXC) */
  containerEnv: string | undefined;
}

export function currentFacts(): SystemFacts {
  return { pid: process.pid, containerEnv: process.env.container };
}

/** why unitd may act as the system manager here, or null when it must not */
export function systemManagerGround(facts: SystemFacts): string | null {
  if (facts.pid === 1) return 'pid1';
  if (facts.containerEnv) return `container=${facts.containerEnv}`;
  return null;
}

/** the ground for --system-manager; throws when unitd is not PID 1 and not in a container */
export function requireSystemManagerGround(facts: SystemFacts = currentFacts(), dir: string = BOOTED_DIR): string {
  const ground = systemManagerGround(facts);
  if (!ground) {
    throw new Error(
      `--system-manager refused: unitd is not PID 1 and $container is not set; creating ${dir} here would make every tool on this host believe systemd is running`,
    );
  }
  return ground;
}

export interface SystemManagerMark {
  ground: string;
  created: boolean;
  /** removes /run/systemd/system again if this process created it (and it is still empty) */
  release(): void;
}

/** creates /run/systemd/system; throws when unitd is not PID 1 and not in a container */
export function becomeSystemManager(facts: SystemFacts = currentFacts(), dir: string = BOOTED_DIR): SystemManagerMark {
  const ground = requireSystemManagerGround(facts, dir);
  const created = !existsSync(dir);
  if (created) mkdirSync(dir, { recursive: true, mode: 0o755 });
  return {
    ground,
    created,
    release: () => {
      if (!created) return;
      try {
        rmdirSync(dir);
      } catch {
        // not empty or already gone: leave it
      }
    },
  };
}
