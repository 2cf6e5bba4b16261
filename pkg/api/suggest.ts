// "did you mean" for a name typed wrong: one rule for every place that names what exists
// (fields of a manifest, networks and Nodes an object names, kinds on xctl's command line).

/**
 * ` (did you mean "x"?)` for the closest of `allowed` when one is close (at most `most` edits:
 * by default 2, or a third of the name), else '' (also for a name no object has:
 * missingNetworkMessage).
 */
export function suggestion(key: string, allowed: string[], most = Math.max(2, Math.floor(key.length / 3))): string {
  const best = closest(key, allowed, most);
  return best !== undefined ? ` (did you mean "${best}"?)` : '';
}

/** The name of `allowed` that suggestion() suggests for `key`, if any. */
export function closest(key: string, allowed: string[], most = Math.max(2, Math.floor(key.length / 3))): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = editDistance(key.toLowerCase(), a.toLowerCase());
    // a tie goes to the name that sorts first: the controller (names in the order its cache
    // met them) and xctl (in etcd's key order) suggest the same one
    if (d < bestD || (d === bestD && best !== undefined && a < best)) { bestD = d; best = a; }
  }
  return best !== undefined && bestD <= most ? best : undefined;
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
