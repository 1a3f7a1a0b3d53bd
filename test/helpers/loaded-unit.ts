// A LoadedUnit with systemd's defaults, for tests that need a unit without a file.
import { defaultKillContext, defaultServiceSection, defaultUnitSection } from '../../src/units/settings.js';
import type { LoadedUnit } from '../../src/units/types.js';

export function loadedUnit(id: string, patch: Partial<LoadedUnit> = {}): LoadedUnit {
  const kill = defaultKillContext();
  return {
    id,
    names: [id],
    loadState: 'loaded',
    loadError: null,
    fragmentPath: `/etc/systemd/system/${id}`,
    sourcePath: '',
    dropInPaths: [],
    unitFileState: 'static',
    unit: defaultUnitSection(),
    service: id.endsWith('.service') ? defaultServiceSection(kill) : null,
    kill: id.endsWith('.service') ? kill : null,
    warnings: [],
    ...patch,
  };
}
