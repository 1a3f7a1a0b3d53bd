// D-Bus errors with systemd's names and messages (spec section 10).

export class BusError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = 'BusError';
  }
}

const SD = 'org.freedesktop.systemd1.';
const DBUS = 'org.freedesktop.DBus.Error.';

export const Errors = {
  invalidArgs: (message: string) => new BusError(DBUS + 'InvalidArgs', message),
  unknownMethod: (message: string) => new BusError(DBUS + 'UnknownMethod', message),
  unknownObject: (message: string) => new BusError(DBUS + 'UnknownObject', message),
  unknownInterface: (iface: string) => new BusError(DBUS + 'UnknownInterface', `Unknown interface '${iface}'.`),
  unknownProperty: (message: string) => new BusError(DBUS + 'UnknownProperty', message),
  propertyReadOnly: (message: string) => new BusError(DBUS + 'PropertyReadOnly', message),
  // -EACCES from a method handler: sd-bus sends strerror(EACCES). (systemctl and busctl print
  // "Access denied" for any AccessDenied whatever its text: bus_error_message() overrides it.)
  accessDenied: (message = 'Permission denied') => new BusError(DBUS + 'AccessDenied', message),
  notSupported: (message = 'Operation not supported') => new BusError(DBUS + 'NotSupported', message),
  failed: (message: string) => new BusError(DBUS + 'Failed', message),

  noSuchUnit: (message: string) => new BusError(SD + 'NoSuchUnit', message),
  unitNotLoaded: (name: string) => new BusError(SD + 'NoSuchUnit', `Unit ${name} not loaded.`),
  noUnitForPID: (pid: number) => new BusError(SD + 'NoUnitForPID', `PID ${pid} does not belong to any loaded unit.`),
  noUnitForInvocationID: (id: string) =>
    new BusError(SD + 'NoUnitForInvocationID', `No unit with the specified invocation ID ${id} known.`),
  noSuchJob: (id: number) => new BusError(SD + 'NoSuchJob', `Job ${id} does not exist.`),
  alreadySubscribed: () => new BusError(SD + 'AlreadySubscribed', 'Client is already subscribed.'),
  notSubscribed: () => new BusError(SD + 'NotSubscribed', 'Client is not subscribed.'),
  notReferenced: () => new BusError(SD + 'NotReferenced', 'Unit has not been referenced yet.'),
};
