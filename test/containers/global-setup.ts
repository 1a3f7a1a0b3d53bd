// Global setup of the container suite: builds the unitd image from this checkout's dist/ (npm test
// builds it first) on top of the base image of scripts/setup-containers.sh, and makes sure the
// Docker-compatible podman API that testcontainers talks to is up (started here, and stopped at the
// end, only if nobody else runs one). Ryuk stays off: its image cannot be pulled here.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOCK = '/run/podman/podman.sock';
let service: ChildProcess | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    unitdImage: string;
  }
}

export async function setup(project: TestProject): Promise<void> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  if (!process.env.DOCKER_HOST) {
    if (!existsSync(SOCK)) {
      mkdirSync('/run/podman', { recursive: true });
      service = spawn('podman', ['system', 'service', '--time=0', `unix://${SOCK}`], { stdio: 'ignore' });
      for (let i = 0; i < 100 && !existsSync(SOCK); i++) await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(SOCK)) throw new Error('podman system service did not come up (run scripts/setup-containers.sh)');
    }
    process.env.DOCKER_HOST = `unix://${SOCK}`;
  }
  const image = process.env.UNITD_IMAGE || 'localhost/unitd:test';
  if (process.env.UNITD_IMAGE_PREBUILT !== '1') {
    execFileSync(`${ROOT}containers/build-image.sh`, [image], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });
  }
  project.provide('unitdImage', image);
}

export async function teardown(): Promise<void> {
  if (service?.pid) {
    service.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      if (service!.exitCode !== null) resolve();
      else service!.once('exit', () => resolve());
    });
    rmSync(SOCK, { force: true });
  }
}
