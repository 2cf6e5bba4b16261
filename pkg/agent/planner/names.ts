// Interface names xnet gives the links it makes on a host. Derived from the owning object's
// name so that a restarted agent finds (adopts) what it made before, with no local state.
import { createHash } from 'node:crypto';

function h8(s: string): string {
  return createHash('sha1').update(s).digest('hex').slice(0, 8);
}

/** Host end of a ContainerNic's veth pair (shown as status.hostInterface). */
export const vethHostName = (nic: string) => `xv${h8(nic)}`;
/** Temporary name of the container end while it is still on the host. */
export const tempName = (nic: string) => `xt${h8(nic)}`;
/** The host shim of a MacvlanNet. */
export const shimName = (net: string) => `xs${h8(net)}`;

/** A host link xnet made for some NIC (a veth host end or a temporary name), whichever NIC it was. */
export const isNicHostLink = (name: string) => /^x[vt][0-9a-f]{8}$/.test(name);

/**
 * The ifalias xnet sets on the container end of a ContainerNic's link. Only a link carrying it
 * is adopted or removed: an interface of the same name that Docker or a user made is left alone.
 */
export const nicAlias = (nic: string) => `xnet:nic:${nic}`;

/** The NIC a link's mark names, if it carries one. */
export const nicOfAlias = (alias: string | undefined) => (alias?.startsWith('xnet:nic:') ? alias.slice('xnet:nic:'.length) : undefined);

/**
 * The ifalias the agent sets on a HostSubnet's bridge once it has checked that an xnet Docker
 * network made it: a NIC's veth goes only onto a bridge so marked, never onto a link of the
 * host's that merely has the name.
 */
export const bridgeAlias = (hostSubnet: string) => `xnet:hostsubnet:${hostSubnet}`;

/** The ifalias of a MacvlanNet's host shim: only a shim so marked is changed or deleted. */
export const shimAlias = (net: string) => `xnet:shim:${net}`;
