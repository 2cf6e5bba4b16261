// What this node asks the controller for by name (its IPAM report's `requested`, journalled): an
// address a `docker run --ip` request in flight waits for, or the kept home a container that
// came back elsewhere asks for (../agent/reconcilers/home-asks.ts). The controller keeps each
// for this node, and for no one else, while it is asked for; one nothing waits for any more (an
// agent stopped mid-request or mid-ask: the journal kept it) is dropped. The MacvlanNet's IPAM
// sync drops them (../agent/reconcilers/docker-ipam.ts), but it runs only while the MacvlanNet
// has a Docker network here: one whose network is gone is swept by the agent's garbage pass.
import type { DockerNetwork } from '../docker/types.js';
import type { AddressBook } from './book.js';
import { MVN_OPTION } from './node-ipam.js';

/**
 * Stops asking for the addresses of `mvn` nothing waits for: no --ip request in flight, none
 * of `wanted` (the homes asked for). Returns them.
 */
export function dropStaleAsks(book: AddressBook, mvn: string, wanted: ReadonlySet<string>): string[] {
  const stale = book.askedUnawaited(mvn).filter((ip) => !wanted.has(ip));
  for (const ip of stale) book.unask(mvn, ip);
  return stale;
}

/**
 * The MacvlanNets the book knows that no Docker network here is served for by `plugin` (its
 * IPAM driver, with the MacvlanNet as its ipam option, as the agent makes it): no container is
 * on one, so only a --ip request in flight can wait for an address of it.
 */
export function netsWithoutNetwork(book: AddressBook, networks: readonly DockerNetwork[], plugin: string): string[] {
  const served = new Set(networks.filter((n) => n.ipamDriver === plugin).map((n) => n.ipamOptions?.[MVN_OPTION]));
  return book.networks().filter((mvn) => !served.has(mvn));
}
