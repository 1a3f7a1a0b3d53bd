// Adding to the list settings of a unit (After=, Documentation=, RequiresMountsFor=, Environment=,
// ...) in constant time per entry. Each of them holds an entry once: systemd keeps dependencies and
// mount paths in hashmaps (unit_add_dependency(), unit_require_mounts_for()), runs strv_uniq() on
// Documentation= and replaces an environment variable set again in its place
// (strv_env_replace_consume()). Looking for the entry with includes()/findIndex() on every
// assignment made a unit file of 100k Environment= lines take 36 s to load, the daemon answering
// nothing meanwhile; an index per list keeps it linear.
//
// The index lives beside the list (a WeakMap keyed by the array), so the lists stay plain arrays
// for everything that reads them. A list changed by other means (emptied with `length = 0`, or
// replaced by a new array, as an empty assignment does) is indexed again on its next use: the
// index remembers the length it saw.

interface Index {
  keyOf: (entry: string) => string;
  /** key → position of the entry in the list */
  positions: Map<string, number>;
  length: number;
}

const indexes = new WeakMap<string[], Index>();

const wholeEntry = (entry: string): string => entry;

function indexOf(list: string[], keyOf: (entry: string) => string): Index {
  let index = indexes.get(list);
  if (index === undefined || index.length !== list.length || index.keyOf !== keyOf) {
    const positions = new Map<string, number>();
    list.forEach((entry, i) => {
      const key = keyOf(entry);
      if (!positions.has(key)) positions.set(key, i);
    });
    index = { keyOf, positions, length: list.length };
    indexes.set(list, index);
  }
  return index;
}

/** Appends `entry` unless the list holds it already (the first one stays where it is). */
export function addUnique(list: string[], entry: string): void {
  const index = indexOf(list, wholeEntry);
  if (index.positions.has(entry)) return;
  index.positions.set(entry, list.length);
  list.push(entry);
  index.length = list.length;
}

/**
 * Puts `entry` in the place of the entry with the same key (strv_env_replace: a variable set again
 * keeps its place, with the new value), or appends it. `keyOf` must be the same function for every
 * call on one list.
 */
export function replaceByKey(list: string[], entry: string, keyOf: (entry: string) => string): void {
  const index = indexOf(list, keyOf);
  const key = keyOf(entry);
  const at = index.positions.get(key);
  if (at !== undefined) {
    list[at] = entry;
    return;
  }
  index.positions.set(key, list.length);
  list.push(entry);
  index.length = list.length;
}
