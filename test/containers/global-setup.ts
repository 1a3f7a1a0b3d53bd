// Global setup of the container suite: builds the unitd image from this checkout's dist/ (npm test
// builds it first) on top of the base image of scripts/setup-containers.sh, and starts the
// Docker-compatible podman API that testcontainers talks to. Both are private to this run (a
// socket and an image tag named after this process), so two runs on one machine do not disturb
// each other; teardown removes both. With DOCKER_HOST set, that API is used instead; with
// UNITD_IMAGE set, that image is used and not built. Ryuk stays off: its image cannot be pulled.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let service: ChildProcess | undefined;
let socket: string | undefined;
let builtImage: string | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    unitdImage: string;
    dockerHost: string;
  }
}

async function startPodmanService(): Promise<string> {
  mkdirSync('/run/podman', { recursive: true });
  socket = `/run/podman/unitd-test-${process.pid}.sock`;
  rmSync(socket, { force: true });
  service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    service!.once('error', (err) => reject(new Error(`cannot run podman (run scripts/setup-containers.sh): ${err.message}`)));
  });
  const up = (async () => {
    for (let i = 0; i < 100 && !existsSync(socket!); i++) await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(socket!)) throw new Error('podman system service did not come up (run scripts/setup-containers.sh)');
  })();
  await Promise.race([up, failed]);
  return `unix://${socket}`;
}

export async function setup(project: TestProject): Promise<void> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const dockerHost = process.env.DOCKER_HOST || (await startPodmanService());
  let image = process.env.UNITD_IMAGE;
  if (!image) {
    image = `localhost/unitd:test-${process.pid}`;
    execFileSync(`${ROOT}containers/build-image.sh`, [image], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });
    builtImage = image;
  }
  project.provide('unitdImage', image);
  project.provide('dockerHost', dockerHost);
}

export async function teardown(): Promise<void> {
  if (builtImage) {
    try {
      execFileSync('podman', ['rmi', '--force', builtImage], { stdio: 'ignore', timeout: 60_000 });
    } catch {
      // already gone
    }
  }
  if (service?.pid && service.exitCode === null) {
    const exited = new Promise<void>((resolve) => service!.once('exit', () => resolve()));
    service.kill('SIGTERM');
    await exited;
  }
  if (socket) rmSync(socket, { force: true });
}
