// org.freedesktop.systemd1.Job: one object per installed job.
import type { Job } from '../jobs/job.js';
import type { InterfaceImpl, MethodHandler } from './object-server.js';
import type { InterfaceSpec } from './interface-spec.js';
import { unitPath } from './object-paths.js';

export const JOB_INTERFACE = 'org.freedesktop.systemd1.Job';

export function jobInterface(spec: InterfaceSpec, job: Job, methods: Record<string, MethodHandler>): InterfaceImpl {
  return {
    spec,
    getters: {
      Id: () => job.id,
      Unit: () => [job.unit.id, unitPath(job.unit.id)],
      JobType: () => job.type,
      State: () => job.state,
      ActivationDetails: () => [],
    },
    methods,
  };
}

/** (usssoo): what ListJobs and GetJobAfter/Before return for a job. */
export function jobListEntry(job: Job): unknown[] {
  return [job.id, job.unit.id, job.type, job.state, `/org/freedesktop/systemd1/job/${job.id}`, unitPath(job.unit.id)];
}
