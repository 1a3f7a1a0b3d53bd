#!/usr/bin/env python3
# One-off generator for interfaces/*.xml: takes the members unitd serves (lists below) out of
# systemd 252's captured introspection (test/fixtures/oracle/introspect-*.xml), in systemd's order,
# and adds the v254+ QueueSignalUnit/QueueSignal declarations. Run from the repo root:
#   python3 test/oracle/make-interfaces.py
# test/unit/interfaces.test.ts checks the result; hand edits to interfaces/ are fine too.
import xml.etree.ElementTree as ET, sys, re
FIX='test/fixtures/oracle/'
OUT='interfaces/'
EMITS='org.freedesktop.DBus.Property.EmitsChangedSignal'
def load(f):
    txt=open(FIX+f).read()
    txt=re.sub(r'<!DOCTYPE[^>]*>','',txt,flags=re.S)
    root=ET.fromstring(txt)
    return {i.get('name'):i for i in root.findall('interface')}
mgr=load('introspect-manager.xml'); unit=load('introspect-service-unit.xml'); job=load('introspect-job.xml')

M_METHODS='GetUnit GetUnitByPID GetUnitByInvocationID GetUnitByControlGroup LoadUnit StartUnit StartUnitWithFlags StopUnit ReloadUnit RestartUnit TryRestartUnit ReloadOrRestartUnit ReloadOrTryRestartUnit KillUnit QueueSignalUnit ResetFailedUnit ResetFailed GetUnitProcesses GetJob GetJobAfter GetJobBefore CancelJob ClearJobs ListUnits ListUnitsFiltered ListUnitsByPatterns ListUnitsByNames ListJobs Subscribe Unsubscribe Reload'.split()
M_SIGNALS='UnitNew UnitRemoved JobNew JobRemoved StartupFinished UnitFilesChanged Reloading'.split()
M_PROPS='Version Features Virtualization Architecture Tainted FirmwareTimestamp FirmwareTimestampMonotonic LoaderTimestamp LoaderTimestampMonotonic KernelTimestamp KernelTimestampMonotonic InitRDTimestamp InitRDTimestampMonotonic UserspaceTimestamp UserspaceTimestampMonotonic FinishTimestamp FinishTimestampMonotonic NNames NFailedUnits NJobs NInstalledJobs NFailedJobs Progress Environment ControlGroup SystemState UnitPath DefaultStandardOutput DefaultStandardError DefaultTimeoutStartUSec DefaultTimeoutStopUSec DefaultTimeoutAbortUSec DefaultRestartUSec DefaultStartLimitIntervalUSec DefaultStartLimitBurst ExitCode ShowStatus ServiceWatchdogs LogLevel LogTarget'.split()
U_METHODS='Start Stop Reload Restart TryRestart ReloadOrRestart ReloadOrTryRestart Kill QueueSignal ResetFailed Ref Unref Freeze Thaw'.split()
U_PROPS_REQ='Id Names Following Documentation Description LoadState ActiveState FreezerState SubState FragmentPath SourcePath DropInPaths UnitFileState UnitFilePreset CanStart CanStop CanReload CanIsolate CanClean CanFreeze Job StopWhenUnneeded RefuseManualStart RefuseManualStop AllowIsolate DefaultDependencies OnSuccessJobMode OnFailureJobMode IgnoreOnIsolate NeedDaemonReload Markers JobTimeoutUSec JobRunningTimeoutUSec JobTimeoutAction JobTimeoutRebootArgument ConditionResult AssertResult ConditionTimestamp ConditionTimestampMonotonic AssertTimestamp AssertTimestampMonotonic Conditions Asserts LoadError Transient Perpetual StartLimitIntervalUSec StartLimitBurst StartLimitAction FailureAction FailureActionExitStatus SuccessAction SuccessActionExitStatus RebootArgument InvocationID CollectMode Refs ActivationDetails'.split()
S_METHODS='GetProcesses AttachProcesses'.split()
S_PROPS='Type ExitType Restart PIDFile NotifyAccess RestartUSec TimeoutStartUSec TimeoutStopUSec TimeoutAbortUSec TimeoutStartFailureMode TimeoutStopFailureMode RuntimeMaxUSec RuntimeRandomizedExtraUSec WatchdogUSec WatchdogTimestamp WatchdogTimestampMonotonic RemainAfterExit GuessMainPID RestartPreventExitStatus RestartForceExitStatus SuccessExitStatus MainPID ControlPID BusName FileDescriptorStoreMax NFileDescriptorStore StatusText StatusErrno Result ReloadResult CleanResult UID GID NRestarts OOMPolicy ExecMainStartTimestamp ExecMainStartTimestampMonotonic ExecMainExitTimestamp ExecMainExitTimestampMonotonic ExecMainPID ExecMainCode ExecMainStatus ExecCondition ExecConditionEx ExecStartPre ExecStartPreEx ExecStart ExecStartEx ExecStartPost ExecStartPostEx ExecReload ExecReloadEx ExecStop ExecStopEx ExecStopPost ExecStopPostEx Slice ControlGroup ControlGroupId MemoryCurrent MemoryAvailable CPUUsageNSec TasksCurrent TasksMax IPIngressBytes IPEgressBytes IOReadBytes IOWriteBytes MemoryMin MemoryLow MemoryHigh MemoryMax MemorySwapMax MemoryLimit DefaultMemoryMin DefaultMemoryLow LogNamespace Environment EnvironmentFiles WorkingDirectory User Group KillMode KillSignal RestartKillSignal FinalKillSignal SendSIGKILL SendSIGHUP WatchdogSignal'.split()

def is_unit_prop_wanted(n):
    # every property of spec 4.2: dependency lists + timestamps are matched by pattern
    if n in U_PROPS_REQ: return True
    if re.fullmatch(r'(Inactive|Active)(Enter|Exit)Timestamp(Monotonic)?|StateChangeTimestamp(Monotonic)?',n): return True
    return False

DEP_LISTS='Requires Requisite Wants BindsTo PartOf Upholds RequiredBy RequisiteOf WantedBy BoundBy UpheldBy ConsistsOf Conflicts ConflictedBy Before After OnSuccess OnSuccessOf OnFailure OnFailureOf Triggers TriggeredBy PropagatesReloadTo ReloadPropagatedFrom PropagatesStopTo StopPropagatedFrom JoinsNamespaceOf SliceOf RequiresMountsFor'.split()

def arg(a, kind):
    s='   <arg type="%s" name="%s"'%(a.get('type'),a.get('name'))
    if kind=='method': s+=' direction="%s"'%(a.get('direction') or 'in')
    return s+'/>'
def render_member(el):
    tag=el.tag; n=el.get('name'); lines=[]
    if tag=='property':
        anns=el.findall('annotation')
        head='  <property name="%s" type="%s" access="%s"'%(n,el.get('type'),el.get('access'))
        if anns:
            lines.append(head+'>')
            for an in anns: lines.append('   <annotation name="%s" value="%s"/>'%(an.get('name'),an.get('value')))
            lines.append('  </property>')
        else: lines.append(head+'/>')
    else:
        args=el.findall('arg'); anns=el.findall('annotation')
        if not args and not anns: lines.append('  <%s name="%s"/>'%(tag,n))
        else:
            lines.append('  <%s name="%s">'%(tag,n))
            for a in args: lines.append(arg(a,tag))
            for an in anns: lines.append('   <annotation name="%s" value="%s"/>'%(an.get('name'),an.get('value')))
            lines.append('  </%s>'%tag)
    return '\n'.join(lines)

def build(iface, wanted, extra_after=None, comment=''):
    out=[]; seen=set()
    for el in iface:
        n=el.get('name')
        if (el.tag,n) in wanted:
            out.append(render_member(el)); seen.add((el.tag,n))
        if extra_after and n in extra_after and el.tag=='method':
            out.append(extra_after[n]); seen.add(('method',extra_after[n+'#name']))
    missing=[w for w in wanted if w not in seen]
    return out, missing

def write(fname, ifname, body, comment):
    txt=('<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n'
         '"https://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n'
         '<!--\n'+comment+'\n-->\n<node>\n <interface name="%s">\n'%ifname + '\n'.join(body)+'\n </interface>\n</node>\n')
    open(OUT+fname,'w').write(txt)

HDR=('  The part of %s that unitd serves: member names, argument names, signatures,\n'
     '  directions and EmitsChangedSignal annotations exactly as systemd 252 introspects them\n'
     '  (test/fixtures/oracle/introspect-%s.xml), in systemd\'s order. Properties without an\n'
     '  annotation emit their value in PropertiesChanged (sd-bus omits the default).\n'
     '  Checked by test/unit/interfaces.test.ts.')

# Manager
wanted=[('property',p) for p in M_PROPS]+[('method',m) for m in M_METHODS if m!='QueueSignalUnit']+[('signal',s) for s in M_SIGNALS]
qsu='''  <method name="QueueSignalUnit">
   <arg type="s" name="name" direction="in"/>
   <arg type="s" name="whom" direction="in"/>
   <arg type="i" name="signal" direction="in"/>
   <arg type="i" name="value" direction="in"/>
  </method>'''
body,miss=build(mgr['org.freedesktop.systemd1.Manager'],wanted,{'KillUnit':qsu,'KillUnit#name':'QueueSignalUnit'})
print('manager missing',miss)
write('org.freedesktop.systemd1.Manager.xml','org.freedesktop.systemd1.Manager',body,
      HDR%('org.freedesktop.systemd1.Manager','manager')+'\n  Exception: QueueSignalUnit is v254+ (not in 252); its declaration follows\n  man/org.freedesktop.systemd1.xml of v254-stable and it sits right after KillUnit, as there.')

# Unit
ui=unit['org.freedesktop.systemd1.Unit']
uprops=[el.get('name') for el in ui if el.tag=='property']
want_u=[('property',p) for p in uprops if p in DEP_LISTS or is_unit_prop_wanted(p)]
print('unit props not served:',[p for p in uprops if not (p in DEP_LISTS or is_unit_prop_wanted(p))])
print('requested unit props absent in 252:',[p for p in U_PROPS_REQ if p not in uprops])
want_u+=[('method',m) for m in U_METHODS if m!='QueueSignal']
qs='''  <method name="QueueSignal">
   <arg type="s" name="whom" direction="in"/>
   <arg type="i" name="signal" direction="in"/>
   <arg type="i" name="value" direction="in"/>
  </method>'''
body,miss=build(ui,want_u,{'Kill':qs,'Kill#name':'QueueSignal'})
print('unit missing',miss)
write('org.freedesktop.systemd1.Unit.xml','org.freedesktop.systemd1.Unit',body,
      HDR%('org.freedesktop.systemd1.Unit','service-unit')+'\n  Exception: QueueSignal is v254+ (not in 252); its declaration follows\n  man/org.freedesktop.systemd1.xml of v254-stable and it sits right after Kill, as there.')

# Service
si=unit['org.freedesktop.systemd1.Service']
sprops=[el.get('name') for el in si if el.tag=='property']
print('requested service props absent in 252:',[p for p in S_PROPS if p not in sprops])
want_s=[('property',p) for p in S_PROPS]+[('method',m) for m in S_METHODS]
body,miss=build(si,want_s)
print('service missing',miss)
write('org.freedesktop.systemd1.Service.xml','org.freedesktop.systemd1.Service',body,
      HDR%('org.freedesktop.systemd1.Service','service-unit'))

# Job: everything
ji=job['org.freedesktop.systemd1.Job']
body=[render_member(el) for el in ji]
write('org.freedesktop.systemd1.Job.xml','org.freedesktop.systemd1.Job',body,HDR%('org.freedesktop.systemd1.Job','job'))

# standard: three interfaces in one node
parts=[]
for name in ['org.freedesktop.DBus.Peer','org.freedesktop.DBus.Introspectable','org.freedesktop.DBus.Properties']:
    parts.append(' <interface name="%s">\n'%name+'\n'.join(render_member(el) for el in mgr[name])+'\n </interface>')
txt=('<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n'
     '"https://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n'
     '<!--\n  The standard interfaces every unitd object implements, as sd-bus (systemd 252) introspects them\n'
     '  on every object (test/fixtures/oracle/introspect-*.xml), in sd-bus order.\n  Checked by test/unit/interfaces.test.ts.\n-->\n<node>\n'+'\n'.join(parts)+'\n</node>\n')
open(OUT+'standard.xml','w').write(txt)
