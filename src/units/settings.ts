// The known settings of [Unit], [Service] and [Install] (plus the kill settings of the other unit
// types that kill processes), how each value is parsed and where it lands, following systemd 252's
// src/core/load-fragment-gperf.gperf.in and the config_parse_* functions it names.
//
// Rules shared by all settings, as in systemd: the last assignment wins for scalars; lists append
// and an empty assignment resets them; a bad value is reported (file:line) and ignored, leaving the
// previous value; a few errors are fatal (systemd returns -ENOEXEC): the file stops being parsed
// and the unit gets LoadState=bad-setting.
import { EXEC_KINDS } from './types.js';

// the store's building blocks, also importable from here
export {
  DEFAULT_RESTART_USEC,
  DEFAULT_START_LIMIT_BURST,
  DEFAULT_START_LIMIT_INTERVAL_USEC,
  DEFAULT_TIMEOUT_USEC,
  defaultKillContext,
  defaultServiceSection,
  defaultUnitSection,
  newUnitConfig,
  sectionsOf,
  type InstallSection,
  type UnitConfig,
} from './unit-config.js';
export { FatalSettingError, type SettingContext, type SettingKind, type SettingSpec } from './setting-appliers.js';

import type { ServiceType } from './types.js';
import type { UnitConfig } from './unit-config.js';
import { parseBooleanValue } from './setting-values.js';
import { addUnique } from './unique-list.js';
import {
  accepted,
  bool,
  condition,
  dependency,
  DOC_URL,
  emergencyAction,
  enumOf,
  environment,
  environmentFile,
  exec,
  expandOrWarn,
  installList,
  JOB_MODES,
  killMode,
  pidFile,
  printfPath,
  printfString,
  serviceTimeout,
  signal,
  simplifyPath,
  slice,
  sockets,
  statusSet,
  timeoutAbort,
  timespan,
  unsigned,
  resourceLimit,
  userOrGroup,
  workingDirectory,
  busName,
  words,
  type Apply,
  type SettingContext,
  type SettingKind,
  type SettingSpec,
} from './setting-appliers.js';

/** Sections whose keys this table knows completely; keys of the others are accepted unchecked. */
const CHECKED_SECTIONS = new Set(['Unit', 'Service', 'Install', 'Target']);

const specs: SettingSpec[] = [];

function add(section: string, key: string, kind: SettingKind, specifiers: boolean, apply: Apply): void {
  specs.push({ section, key, kind, specifiers, apply });
}

// [Unit]
add('Unit', 'Description', 'string', true, printfString((c, v) => (c.unit.description = v)));
add('Unit', 'Documentation', 'list', true, (c, value, ctx) => {
  if (value === '') {
    c.unit.documentation = [];
    return;
  }
  for (const w of words(value, ctx) ?? []) {
    const v = expandOrWarn(w, ctx);
    if (v === undefined) continue;
    if (!DOC_URL.test(v)) {
      ctx.warn(`Invalid URL, ignoring: ${v}`);
      continue;
    }
    addUnique(c.unit.documentation, v);
  }
});
add('Unit', 'SourcePath', 'path', true, printfPath((c, v) => (c.sourcePath = v)));
const DEPENDENCY_KEYS: Record<string, string> = {
  Requires: 'Requires',
  Requisite: 'Requisite',
  Wants: 'Wants',
  BindsTo: 'BindsTo',
  BindTo: 'BindsTo',
  Upholds: 'Upholds',
  Conflicts: 'Conflicts',
  Before: 'Before',
  After: 'After',
  OnSuccess: 'OnSuccess',
  OnFailure: 'OnFailure',
  PropagatesReloadTo: 'PropagatesReloadTo',
  PropagateReloadTo: 'PropagatesReloadTo',
  ReloadPropagatedFrom: 'ReloadPropagatedFrom',
  PropagateReloadFrom: 'ReloadPropagatedFrom',
  PropagatesStopTo: 'PropagatesStopTo',
  StopPropagatedFrom: 'StopPropagatedFrom',
  PartOf: 'PartOf',
  JoinsNamespaceOf: 'JoinsNamespaceOf',
};
for (const [key, name] of Object.entries(DEPENDENCY_KEYS)) add('Unit', key, 'dependency', true, dependency(name));
// obsolete in 252: accepted with a warning, treated as the plain dependency
for (const [key, name] of [
  ['RequiresOverridable', 'Requires'],
  ['RequisiteOverridable', 'Requisite'],
] as const) {
  add('Unit', key, 'dependency', true, (c, value, ctx) => {
    ctx.warn(`Unit dependency type ${key}= is obsolete, replacing by ${name}=, please update your unit file.`);
    dependency(name)(c, value, ctx);
  });
}
add('Unit', 'RequiresMountsFor', 'list', true, (c, value, ctx) => {
  for (const w of words(value, ctx) ?? []) {
    const v = expandOrWarn(w, ctx);
    if (v === undefined) continue;
    if (!v.startsWith('/')) {
      ctx.warn(`Mount path '${v}' is not absolute, ignoring.`);
      continue;
    }
    const p = simplifyPath(v);
    addUnique(c.unit.requiresMountsFor, p);
  }
});
add('Unit', 'StopWhenUnneeded', 'bool', false, bool((c, v) => (c.unit.stopWhenUnneeded = v)));
add('Unit', 'RefuseManualStart', 'bool', false, bool((c, v) => (c.unit.refuseManualStart = v)));
add('Unit', 'RefuseManualStop', 'bool', false, bool((c, v) => (c.unit.refuseManualStop = v)));
add('Unit', 'AllowIsolate', 'bool', false, bool((c, v) => (c.unit.allowIsolate = v)));
add('Unit', 'DefaultDependencies', 'bool', false, bool((c, v) => (c.unit.defaultDependencies = v)));
add('Unit', 'OnSuccessJobMode', 'enum', false, enumOf(JOB_MODES, 'job mode', (c, v) => (c.unit.onSuccessJobMode = v)));
add('Unit', 'OnFailureJobMode', 'enum', false, enumOf(JOB_MODES, 'job mode', (c, v) => (c.unit.onFailureJobMode = v)));
add('Unit', 'OnFailureIsolate', 'bool', false, (c, value, ctx) => {
  const b = parseBooleanValue(value);
  if (b === undefined) {
    ctx.warn(`Failed to parse boolean, ignoring: ${value}`);
    return;
  }
  ctx.warn('OnFailureIsolate= is deprecated, please use OnFailureJobMode= instead.');
  c.unit.onFailureJobMode = b ? 'isolate' : 'replace';
});
add('Unit', 'IgnoreOnIsolate', 'bool', false, bool((c, v) => (c.unit.ignoreOnIsolate = v)));
add('Unit', 'IgnoreOnSnapshot', 'accepted', false, (_c, _v, ctx) =>
  ctx.warn('Support for option IgnoreOnSnapshot= has been removed and it is ignored'),
);
// config_parse_job_timeout_sec: JobTimeoutSec= also sets JobRunningTimeoutSec= unless that was set
add(
  'Unit',
  'JobTimeoutSec',
  'timespan',
  false,
  timespan(
    (c, v) => {
      c.unit.jobTimeoutUSec = v;
      if (!c.jobRunningTimeoutSet) c.unit.jobRunningTimeoutUSec = v;
    },
    { fix0: true },
  ),
);
add(
  'Unit',
  'JobRunningTimeoutSec',
  'timespan',
  false,
  timespan(
    (c, v) => {
      c.unit.jobRunningTimeoutUSec = v;
      c.jobRunningTimeoutSet = true;
    },
    { fix0: true },
  ),
);
add('Unit', 'JobTimeoutAction', 'enum', false, emergencyAction('JobTimeoutAction', () => {}));
add('Unit', 'JobTimeoutRebootArgument', 'string', false, accepted);
for (const section of ['Unit', 'Service']) {
  // the [Service] forms are compatibility spellings of the [Unit] settings
  if (section === 'Unit') add(section, 'StartLimitIntervalSec', 'timespan', false, timespan((c, v) => (c.unit.startLimitIntervalUSec = v)));
  add(section, 'StartLimitInterval', 'timespan', false, timespan((c, v) => (c.unit.startLimitIntervalUSec = v)));
  add(section, 'StartLimitBurst', 'unsigned', false, unsigned((c, v) => (c.unit.startLimitBurst = v)));
  add(section, 'StartLimitAction', 'enum', false, emergencyAction('StartLimitAction', (c, v) => (c.unit.startLimitAction = v)));
  add(section, 'FailureAction', 'enum', false, emergencyAction('FailureAction', (c, v) => (c.unit.failureAction = v)));
  add(section, 'RebootArgument', 'string', section === 'Service', accepted);
}
add('Unit', 'SuccessAction', 'enum', false, emergencyAction('SuccessAction', (c, v) => (c.unit.successAction = v)));
add('Unit', 'FailureActionExitStatus', 'unsigned', false, accepted);
add('Unit', 'SuccessActionExitStatus', 'unsigned', false, accepted);
add('Unit', 'CollectMode', 'enum', false, enumOf(['inactive', 'inactive-or-failed'] as const, 'garbage collection mode', (c, v) => (c.unit.collectMode = v)));

const PATH_CONDITIONS = [
  'PathExists',
  'PathExistsGlob',
  'PathIsDirectory',
  'PathIsSymbolicLink',
  'PathIsMountPoint',
  'PathIsReadWrite',
  'PathIsEncrypted',
  'DirectoryNotEmpty',
  'FileNotEmpty',
  'FileIsExecutable',
  'NeedsUpdate',
];
const STRING_CONDITIONS = [
  'FirstBoot',
  'Architecture',
  'Firmware',
  'Virtualization',
  'Host',
  'KernelCommandLine',
  'KernelVersion',
  'Credential',
  'Security',
  'Capability',
  'ACPower',
  'Memory',
  'CPUFeature',
  'CPUs',
  'Environment',
  'User',
  'Group',
  'ControlGroupController',
  'OSRelease',
  'MemoryPressure',
  'CPUPressure',
  'IOPressure',
];
for (const [prefix, isAssert] of [
  ['Condition', false],
  ['Assert', true],
] as const) {
  for (const name of PATH_CONDITIONS) add('Unit', prefix + name, 'condition', true, condition(prefix + name, isAssert, true));
  for (const name of STRING_CONDITIONS) {
    // 252 has no AssertFirmware=
    if (isAssert && name === 'Firmware') continue;
    add('Unit', prefix + name, 'condition', true, condition(prefix + name, isAssert, false));
  }
}

// [Service]
add('Service', 'PIDFile', 'path', true, pidFile);
for (const kind of EXEC_KINDS) add('Service', kind, 'exec', true, exec(kind));
add('Service', 'RestartSec', 'timespan', false, timespan((c, v) => (c.service!.restartUSec = v)));
add('Service', 'TimeoutSec', 'timespan', false, serviceTimeout(true));
add('Service', 'TimeoutStartSec', 'timespan', false, serviceTimeout(false));
add('Service', 'TimeoutStopSec', 'timespan', false, timespan((c, v) => (c.service!.timeoutStopUSec = v), { fix0: true }));
add('Service', 'TimeoutAbortSec', 'timespan', false, timeoutAbort);
const FAILURE_MODES = ['terminate', 'abort', 'kill'] as const;
add('Service', 'TimeoutStartFailureMode', 'enum', false, enumOf(FAILURE_MODES, 'TimeoutStartFailureMode= setting', (c, v) => (c.service!.timeoutStartFailureMode = v)));
add('Service', 'TimeoutStopFailureMode', 'enum', false, enumOf(FAILURE_MODES, 'TimeoutStopFailureMode= setting', (c, v) => (c.service!.timeoutStopFailureMode = v)));
add('Service', 'RuntimeMaxSec', 'timespan', false, timespan((c, v) => (c.service!.runtimeMaxUSec = v)));
add('Service', 'RuntimeRandomizedExtraSec', 'timespan', false, timespan((c, v) => (c.service!.runtimeRandomizedExtraUSec = v)));
add('Service', 'WatchdogSec', 'timespan', false, timespan((c, v) => (c.service!.watchdogUSec = v)));
const SERVICE_TYPES: readonly ServiceType[] = ['simple', 'exec', 'forking', 'oneshot', 'dbus', 'notify', 'idle'];
add('Service', 'Type', 'enum', false, enumOf(SERVICE_TYPES, 'service type', (c, v) => (c.explicitServiceType = v)));
add('Service', 'ExitType', 'enum', false, enumOf(['main', 'cgroup'] as const, 'service exit type', (c, v) => (c.service!.exitType = v)));
add(
  'Service',
  'Restart',
  'enum',
  false,
  enumOf(
    ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'] as const,
    'service restart specifier',
    (c, v) => (c.service!.restart = v),
  ),
);
add('Service', 'PermissionsStartOnly', 'bool', false, bool(() => {}));
add('Service', 'RootDirectoryStartOnly', 'bool', false, bool(() => {}));
add('Service', 'RemainAfterExit', 'bool', false, bool((c, v) => (c.service!.remainAfterExit = v)));
add('Service', 'GuessMainPID', 'bool', false, bool((c, v) => (c.service!.guessMainPID = v)));
add('Service', 'RestartPreventExitStatus', 'exit-status', false, statusSet((c) => c.service!.restartPreventExitStatus));
add('Service', 'RestartForceExitStatus', 'exit-status', false, statusSet((c) => c.service!.restartForceExitStatus));
add('Service', 'SuccessExitStatus', 'exit-status', false, statusSet((c) => c.service!.successExitStatus));
add('Service', 'SysVStartPriority', 'accepted', false, (_c, _v, ctx) =>
  ctx.warn('Support for option SysVStartPriority= has been removed and it is ignored'),
);
add('Service', 'NonBlocking', 'bool', false, bool(() => {}));
add('Service', 'BusName', 'string', true, busName);
add('Service', 'FileDescriptorStoreMax', 'unsigned', false, unsigned((c, v) => (c.fileDescriptorStoreMax = v)));
add('Service', 'NotifyAccess', 'enum', false, enumOf(['none', 'main', 'exec', 'all'] as const, 'notify access specifier', (c, v) => (c.service!.notifyAccess = v)));
add('Service', 'Sockets', 'dependency', true, sockets);
add('Service', 'BusPolicy', 'accepted', false, (_c, _v, ctx) =>
  ctx.warn('Support for option BusPolicy= has been removed and it is ignored'),
);
add('Service', 'USBFunctionDescriptors', 'path', true, printfPath((c, v) => (c.usbFunctionDescriptors = v)));
add('Service', 'USBFunctionStrings', 'path', true, printfPath((c, v) => (c.usbFunctionStrings = v)));
add('Service', 'OOMPolicy', 'enum', false, enumOf(['continue', 'stop', 'kill'] as const, 'OOM policy', (c, v) => (c.explicitOOMPolicy = v)));

// exec context: the settings the store interprets, then the ones it only accepts
add('Service', 'WorkingDirectory', 'path', true, workingDirectory);
add('Service', 'User', 'string', true, userOrGroup((c, v) => (c.service!.user = v)));
add('Service', 'Group', 'string', true, userOrGroup((c, v) => (c.service!.group = v)));
add('Service', 'Environment', 'environment', true, environment);
add('Service', 'EnvironmentFile', 'list', true, environmentFile);
add('Service', 'PAMName', 'string', true, printfString((c, v) => (c.pamName = v)));
add('Service', 'DynamicUser', 'bool', false, bool(() => {}, true));
add('Service', 'IgnoreSIGPIPE', 'bool', false, bool((c, v) => (c.service!.ignoreSigpipe = v)));
add('Service', 'LimitNOFILE', 'resource-limit', false, resourceLimit((c, v) => (c.service!.limitNOFILE = v)));
add('Service', 'Slice', 'string', true, slice);

const ACCEPTED_EXEC_KEYS = `AmbientCapabilities AppArmorProfile BindPaths BindReadOnlyPaths CPUAffinity CPUSchedulingPolicy
CPUSchedulingPriority CPUSchedulingResetOnFork CacheDirectory CacheDirectoryMode Capabilities
CapabilityBoundingSet ConfigurationDirectory ConfigurationDirectoryMode CoredumpFilter ExecPaths
ExecSearchPath ExtensionDirectories ExtensionImages IOSchedulingClass IOSchedulingPriority IPCNamespacePath
InaccessibleDirectories InaccessiblePaths KeyringMode LimitAS LimitCORE LimitCPU LimitDATA
LimitFSIZE LimitLOCKS LimitMEMLOCK LimitMSGQUEUE LimitNICE LimitNPROC LimitRSS LimitRTPRIO
LimitRTTIME LimitSIGPENDING LimitSTACK LoadCredential LoadCredentialEncrypted LockPersonality LogExtraFields
LogLevelMax LogNamespace LogRateLimitBurst LogRateLimitIntervalSec LogsDirectory LogsDirectoryMode
MemoryDenyWriteExecute MountAPIVFS MountFlags MountImages NUMAMask NUMAPolicy NetworkNamespacePath Nice
NoExecPaths NoNewPrivileges OOMScoreAdjust PassEnvironment Personality PrivateDevices PrivateIPC
PrivateMounts PrivateNetwork PrivateTmp PrivateUsers ProcSubset ProtectClock ProtectControlGroups ProtectHome
ProtectKernelLogs ProtectKernelModules ProtectKernelTunables ProtectProc ProtectSystem ReadOnlyDirectories
ReadOnlyPaths ReadWriteDirectories ReadWritePaths RemoveIPC RestrictAddressFamilies RestrictFileSystems
RestrictNamespaces RestrictRealtime RestrictSUIDSGID RootDirectory RootHash RootHashSignature RootImage
RootImageOptions RootVerity RuntimeDirectory RuntimeDirectoryMode RuntimeDirectoryPreserve SELinuxContext
SecureBits SetCredential SetCredentialEncrypted SmackProcessLabel StandardError StandardInput
StandardInputData StandardInputText StandardOutput StateDirectory StateDirectoryMode SupplementaryGroups
SyslogFacility SyslogIdentifier SyslogLevel SyslogLevelPrefix SystemCallArchitectures SystemCallErrorNumber
SystemCallFilter SystemCallLog TTYColumns TTYPath TTYReset TTYRows TTYVHangup TTYVTDisallocate
TemporaryFileSystem TimeoutCleanSec TimerSlackNSec UMask UnsetEnvironment UtmpIdentifier UtmpMode ProtectHostname`;

const ACCEPTED_CGROUP_KEYS = `AllowedCPUs StartupAllowedCPUs AllowedMemoryNodes StartupAllowedMemoryNodes CPUAccounting CPUWeight
StartupCPUWeight CPUShares StartupCPUShares CPUQuota CPUQuotaPeriodSec MemoryAccounting MemoryMin
DefaultMemoryMin DefaultMemoryLow MemoryLow MemoryHigh MemoryMax MemorySwapMax MemoryLimit DeviceAllow
DevicePolicy IOAccounting IOWeight StartupIOWeight IODeviceWeight IOReadBandwidthMax IOWriteBandwidthMax
IOReadIOPSMax IOWriteIOPSMax IODeviceLatencyTargetSec BlockIOAccounting BlockIOWeight StartupBlockIOWeight
BlockIODeviceWeight BlockIOReadBandwidth BlockIOWriteBandwidth TasksAccounting TasksMax Delegate
DisableControllers IPAccounting IPAddressAllow IPAddressDeny IPIngressFilterPath IPEgressFilterPath
ManagedOOMSwap ManagedOOMMemoryPressure ManagedOOMMemoryPressureLimit ManagedOOMPreference NetClass
BPFProgram SocketBindAllow SocketBindDeny RestrictNetworkInterfaces`;

for (const key of `${ACCEPTED_EXEC_KEYS} ${ACCEPTED_CGROUP_KEYS}`.split(/\s+/)) {
  if (key !== 'Delegate') add('Service', key, 'accepted', false, accepted);
}
/** config_parse_delegate: yes/no, or a controller list (which turns delegation on); empty means yes. */
add('Service', 'Delegate', 'bool', false, (c, value) => {
  c.delegate = value === '' ? true : parseBooleanValue(value) ?? true;
});

// kill context: [Service] here; [Socket], [Mount], [Swap] and [Scope] use the same settings
for (const section of ['Service', 'Socket', 'Mount', 'Swap', 'Scope']) {
  add(section, 'SendSIGKILL', 'bool', false, bool((c, v) => (c.kill!.sendSIGKILL = v)));
  add(section, 'SendSIGHUP', 'bool', false, bool((c, v) => (c.kill!.sendSIGHUP = v)));
  add(section, 'KillMode', 'enum', false, killMode);
  add(section, 'KillSignal', 'signal', false, signal((c, v) => (c.kill!.killSignal = v)));
  add(section, 'RestartKillSignal', 'signal', false, signal((c, v) => (c.kill!.restartKillSignal = v)));
  add(section, 'FinalKillSignal', 'signal', false, signal((c, v) => (c.kill!.finalKillSignal = v)));
  add(section, 'WatchdogSignal', 'signal', false, signal((c, v) => (c.kill!.watchdogSignal = v)));
}

// [Install]: read by the installer (systemctl enable), not by the manager; kept for UnitFileState
add('Install', 'Alias', 'list', true, installList((c) => c.install.alias));
add('Install', 'WantedBy', 'list', true, installList((c) => c.install.wantedBy));
add('Install', 'RequiredBy', 'list', true, installList((c) => c.install.requiredBy));
add('Install', 'Also', 'list', true, installList((c) => c.install.also));
add('Install', 'DefaultInstance', 'string', true, (c, value, ctx) => {
  c.install.present = true;
  const v = expandOrWarn(value, ctx);
  if (v !== undefined) c.install.defaultInstance = v;
});

const TABLE = new Map<string, SettingSpec>(specs.map((s) => [`${s.section}.${s.key}`, s]));

/** Every setting the table knows, in declaration order. */
export const SETTINGS: readonly SettingSpec[] = specs;

export function findSetting(section: string, key: string): SettingSpec | undefined {
  return TABLE.get(`${section}.${key}`);
}

export type AssignmentOutcome = 'applied' | 'ignored';

/**
 * Applies one assignment (whose section is valid for the unit's type). Unknown keys are reported
 * and ignored; keys starting with "X-" are ignored silently. Throws FatalSettingError for the
 * errors that make systemd reject the unit.
 */
export function applySetting(config: UnitConfig, section: string, key: string, value: string, ctx: SettingContext): AssignmentOutcome {
  const spec = findSetting(section, key);
  if (!spec) {
    if (key.startsWith('X-') || !CHECKED_SECTIONS.has(section)) return 'ignored';
    ctx.warn(`Unknown key name '${key}' in section '${section}', ignoring.`);
    return 'ignored';
  }
  spec.apply(config, value, ctx);
  return 'applied';
}
