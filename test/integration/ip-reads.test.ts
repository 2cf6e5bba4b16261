// The agent reads a host's links and IPv4 addresses with one `ip -details addr show`
// (IpRunner.linksAndAddrs): each `ip` is a fork of the agent, and most passes read both. What
// it gives must be what the two reads it replaces give, on a lab host with the kinds of links
// xnet makes and marks: a bridge, a veth pair with one end on it, a macvlan, an alias, addresses.
import { describe, expect, it } from 'vitest';
import { IpRunner } from '../../pkg/netlink/ip.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import { useTestLab } from '../harness/lab.js';

describe('links and addresses in one read', () => {
  const lab = useTestLab({ hosts: 1, docker: false });

  it('equal `ip -details link show` and `ip -4 addr show` read apart', async () => {
    const sh = (cmd: string) => lab().exec(1, ['sh', '-c', cmd], { check: true });
    await sh('ip link add xbr9 type bridge && ip link add xva9 type veth peer name xvb9 && ip link set xvb9 master xbr9'
      + ' && ip link add link xva9 name xmv9 type macvlan mode bridge && ip link set xbr9 alias xnet:hostsubnet:hs9'
      + ' && ip addr add 10.99.0.1/24 dev xbr9 && ip addr add 10.98.0.5/24 dev xmv9 && ip -6 addr add fd00::9/64 dev xva9'
      + ' && ip link set xbr9 up && ip link set xva9 up');
    const ip = new IpRunner(netnsTarget(lab().host(1).netns));
    const [both, links, addrs] = await Promise.all([ip.linksAndAddrs(), ip.links(), ip.addrs()]);
    expect(links.map((l) => l.name)).toEqual(expect.arrayContaining(['xbr9', 'xva9', 'xvb9', 'xmv9']));
    expect(addrs).toEqual(expect.arrayContaining([{ dev: 'xbr9', cidr: '10.99.0.1/24' }, { dev: 'xmv9', cidr: '10.98.0.5/24' }]));
    expect(both.links).toEqual(links);
    expect(both.addrs).toEqual(addrs);
    expect(both.addrs.map((a) => a.cidr)).not.toContain('fd00::9/64');
  });
});
