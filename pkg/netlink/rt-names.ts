// The kernel's own numbers for a route's protocol, scope and table (linux/rtnetlink.h), by the
// names iproute2 gives them when no file says otherwise. xnet's reads ask `ip` for numbers
// (-Numeric, ./ip.ts): without it, ip prints whatever name /etc/iproute2 (rt_protos,
// rt_protos.d, rt_scopes, rt_tables...) gives a number, and an admin's `76 xnet` made every
// route of xnet's look foreign. The parser (./parse.ts) names these numbers as the planners
// compare them ("kernel", "main", "link"); any other number stays a number ("76", "100").

const NAMES = {
  protocol: {
    0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 8: 'gated', 9: 'ra', 10: 'mrt', 11: 'zebra', 12: 'bird',
    13: 'dnrouted', 14: 'xorp', 15: 'ntk', 16: 'dhcp', 18: 'keepalived', 42: 'babel', 186: 'bgp', 187: 'isis', 188: 'ospf', 189: 'rip', 192: 'eigrp',
  },
  scope: { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' },
  table: { 0: 'unspec', 253: 'default', 254: 'main', 255: 'local' },
} satisfies Record<string, Record<number, string>>;

/** The kernel's name of a number `ip -Numeric` printed; a name (an older reading) or any other number as printed. */
export function rtName(kind: keyof typeof NAMES, printed: string | number): string {
  const s = String(printed);
  return /^\d+$/.test(s) ? (NAMES[kind] as Record<string, string>)[s] ?? s : s;
}
