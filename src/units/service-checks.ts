// What systemd 252 does to a service once its files are read (src/core/service.c): fill in the
// implied values (service_add_extras) and refuse inconsistent configurations (service_verify),
// which makes the unit's LoadState bad-setting.
import { USEC_INFINITY } from './types.js';
import type { UnitConfig } from './unit-config.js';

export interface ManagerFacts {
  /** set for a user manager: services default to WorkingDirectory=!<home> (unit_patch_contexts) */
  userHome?: string;
}

/** service_add_extras(): the automatic Type=, oneshot's start timeout, NotifyAccess=, OOMPolicy=,
 *  and the user manager's default working directory. */
export function completeService(config: UnitConfig, manager: ManagerFacts = {}): void {
  const svc = config.service;
  if (!svc) return;

  if (config.explicitServiceType !== null) svc.type = config.explicitServiceType;
  else if (svc.busName !== '') svc.type = 'dbus';
  else if (svc.exec.ExecStart.length > 0) svc.type = 'simple';
  else svc.type = 'oneshot';

  if (svc.type === 'oneshot' && !config.startTimeoutDefined) svc.timeoutStartUSec = USEC_INFINITY;

  if (svc.notifyAccess === 'none' && (svc.type === 'notify' || svc.watchdogUSec > 0n || config.fileDescriptorStoreMax > 0)) {
    svc.notifyAccess = 'main';
  }

  // the manager's DefaultOOMPolicy= is "stop"; delegated subtrees handle OOM themselves
  svc.oomPolicy = config.explicitOOMPolicy ?? (config.delegate ? 'continue' : 'stop');
  svc.delegate = config.delegate;

  if (manager.userHome !== undefined && svc.workingDirectory === '') svc.workingDirectory = `!${manager.userHome}`;
}

export interface ServiceVerdict {
  /** the reason the service is refused (LoadState=bad-setting), or null */
  error: string | null;
  warnings: string[];
}

/** service_verify(), in 252's order: the first failing rule is reported. */
export function verifyService(config: UnitConfig): ServiceVerdict {
  const svc = config.service;
  const warnings: string[] = [];
  if (!svc) return { error: null, warnings };
  const refuse = (error: string): ServiceVerdict => ({ error, warnings });

  for (const [kind, commands] of Object.entries(svc.exec)) {
    for (const cmd of commands) {
      if (!cmd.path.startsWith('/') && (cmd.path === '' || cmd.path.includes('/'))) {
        return refuse(`Service ${kind}= binary path "${cmd.path}" is neither a valid executable name nor an absolute path. Refusing.`);
      }
      if (cmd.argv.length === 0) return refuse(`Service has an empty argv in ${kind}=. Refusing.`);
    }
  }

  const hasStart = svc.exec.ExecStart.length > 0;
  const hasStop = svc.exec.ExecStop.length > 0;
  const successAction = config.unit.successAction !== 'none';
  const oneshot = svc.type === 'oneshot';

  if (!hasStart && !hasStop && !successAction) return refuse('Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.');
  if (!oneshot && !hasStart) {
    return refuse('Service has no ExecStart= setting, which is only allowed for Type=oneshot services. Refusing.');
  }
  if (!svc.remainAfterExit && !hasStart && !successAction) {
    return refuse(
      'Service has no ExecStart= and no SuccessAction= settings and does not have RemainAfterExit=yes set. Refusing.',
    );
  }
  if (!oneshot && svc.exec.ExecStart.length > 1) {
    return refuse('Service has more than one ExecStart= setting, which is only allowed for Type=oneshot services. Refusing.');
  }
  if (oneshot && (svc.restart === 'always' || svc.restart === 'on-success')) {
    return refuse("Service has Restart= set to either always or on-success, which isn't allowed for Type=oneshot services. Refusing.");
  }
  const force = svc.restartForceExitStatus;
  if (oneshot && (force.statuses.length > 0 || force.signals.length > 0)) {
    return refuse("Service has RestartForceExitStatus= set, which isn't allowed for Type=oneshot services. Refusing.");
  }
  if (oneshot && svc.exitType === 'cgroup') {
    return refuse("Service has ExitType=cgroup set, which isn't allowed for Type=oneshot services. Refusing.");
  }
  if (svc.type === 'dbus' && svc.busName === '') {
    return refuse('Service is of type D-Bus but no D-Bus service name has been specified. Refusing.');
  }
  if (config.pamName !== '' && svc.kill.killMode !== 'control-group' && svc.kill.killMode !== 'mixed') {
    return refuse("Service has PAM enabled. Kill mode must be set to 'control-group' or 'mixed'. Refusing.");
  }

  if (config.usbFunctionDescriptors !== '' && config.usbFunctionStrings === '') {
    warnings.push('Service has USBFunctionDescriptors= setting, but no USBFunctionStrings=. Ignoring.');
  }
  if (config.usbFunctionDescriptors === '' && config.usbFunctionStrings !== '') {
    warnings.push('Service has USBFunctionStrings= setting, but no USBFunctionDescriptors=. Ignoring.');
  }
  if (svc.runtimeMaxUSec !== USEC_INFINITY && oneshot) {
    warnings.push('RuntimeMaxSec= has no effect in combination with Type=oneshot. Ignoring.');
  }
  if (svc.runtimeMaxUSec === USEC_INFINITY && svc.runtimeRandomizedExtraUSec !== 0n) {
    warnings.push('Service has RuntimeRandomizedExtraSec= setting, but no RuntimeMaxSec=. Ignoring.');
  }
  return { error: null, warnings };
}
