// The units a boot would pull in: those linked from the .wants/ and .requires/ directories of the
// targets systemd's default target reaches (multi-user, graphical, basic, sysinit; default and basic
// for a user manager), in any directory of the search path. unitd keeps these loaded; it does not
// start them.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { UnitScope } from './search-path.js';

const BOOT_TARGETS: Record<UnitScope, string[]> = {
  system: ['default.target', 'multi-user.target', 'graphical.target', 'basic.target', 'sysinit.target'],
  user: ['default.target', 'basic.target'],
};

export function bootUnitNames(searchPath: readonly string[], scope: UnitScope): string[] {
  const names = new Set<string>();
  for (const dir of searchPath) {
    for (const target of BOOT_TARGETS[scope]) {
      for (const suffix of ['.wants', '.requires']) {
        try {
          for (const entry of readdirSync(join(dir, target + suffix))) names.add(entry);
        } catch {
          // no such directory
        }
      }
    }
  }
  return [...names].sort();
}
