// "did you mean" for a name typed wrong: one rule for every place that names what exists
// (fields of a manifest, networks and Nodes an object names, kinds on xctl's command line).

/**
 * ` (did you mean "x"?)` for the closest of `allowed` when one is close (at most `most` edits:
 * by default 2, or a third of the name), else '' (also for a name no object has:
 * missingNetworkMessage). Names equally close are all offered (`"host-1" or "host-2"`): picking
 * one of them would send the user to the wrong object as often as to the right one.
 */
export function suggestion(key: string, allowed: string[], most = Math.max(2, Math.floor(key.length / 3))): string {
  return didYouMean(closestAll(key, allowed, most));
}

/** Most names a hint spells out; the rest are counted. */
const MAX_SHOWN = 3;

/** ` (did you mean "a", "b" or "c"?)` for the names given (closestAll's), '' for none. */
export function didYouMean(names: readonly string[]): string {
  if (!names.length) return '';
  // "or one of 1 more" says less than the name itself
  const quoted = names.slice(0, names.length === MAX_SHOWN + 1 ? names.length : MAX_SHOWN).map((n) => `"${n}"`);
  const more = names.length - quoted.length;
  const last = more ? `one of ${more} more` : quoted.pop()!;
  return ` (did you mean ${quoted.length ? `${quoted.join(', ')} or ${last}` : last}?)`;
}

/** The name of `allowed` that suggestion() suggests first for `key`, if any. */
export function closest(key: string, allowed: string[], most = Math.max(2, Math.floor(key.length / 3))): string | undefined {
  return closestAll(key, allowed, most)[0];
}

/**
 * The names of `allowed` closest to `key` (all those at the least distance, if it is at most
 * `most`), sorted: the controller (names in the order its cache met them) and xctl (in etcd's
 * key order) suggest the same ones.
 */
export function closestAll(key: string, allowed: string[], most = Math.max(2, Math.floor(key.length / 3))): string[] {
  let best: string[] = [];
  let bestD = Infinity;
  for (const a of new Set(allowed)) {
    const d = editDistance(key.toLowerCase(), a.toLowerCase());
    if (d > most) continue;
    if (d < bestD) { bestD = d; best = [a]; } else if (d === bestD) best.push(a);
  }
  return best.sort();
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
