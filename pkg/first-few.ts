// How messages name a list that may be long: the first few, the rest counted (`a, b, c and 4
// more`), so that a message stays bounded however many objects there are. One rule for every
// message that names NICs, nodes, HostSubnets or addresses.

/** `a, b, c and 4 more`: at most `max` items joined by ", ", the rest counted. */
export function firstFew(items: readonly string[], max: number): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
