// The Node name a program on a host takes for that host when given no --node: the agent's
// and `xctl verify --local`'s, one rule, so that both name the same Node. It is the short host
// name, what the agent's systemd unit passes (deploy/systemd/xnet-agent.service, `%l`), as is
// (no lower-casing): a host whose short name is not a Node name needs --node (XNET_NODE).
import { hostname } from 'node:os';

/** The host name up to its first dot: `h1` for `h1.example.com`. */
export function defaultNodeName(host: string = hostname()): string {
  const dot = host.indexOf('.');
  return dot < 0 ? host : host.slice(0, dot);
}
