// The agent's iptables rules in a lab host: only its own chains and jumps are written; the
// admin's rules stay exactly as they are (also one inserted above xnet's jump); a
// ClusterNetwork that goes takes its rules along; an agent restart adds nothing.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostExec } from '../../pkg/lab/index.js';
import { breakAndCheck, breakVerified, HEAL_WAIT_MS, mustSucceed } from '../harness/heal.js';
import { addAdminRules } from './admin-iptables.js';
import { agentLab, createDefaultNetwork, eventually, obj, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
/** an admin's iptables command, which must work (else the test would prove nothing) */
const ipt = async (argv: string[]) => { mustSucceed(`iptables ${argv.join(' ')}`, await hostExec(h1(), ['iptables', ...argv])); };
const rules = async (table: string) => (await sh(h1(), ['iptables', '-t', table, '-S'])).split('\n').filter(Boolean);
const count = (xs: string[], line: string) => xs.filter((x) => x === line).length;
const USER_NAT = ['-A POSTROUTING -s 10.99.0.0/16 ! -d 10.99.0.0/16 -j MASQUERADE', '-A USER-NAT -s 10.98.0.0/16 -j RETURN', '-A POSTROUTING -j USER-NAT'];
const USER_FWD = ['-A FORWARD -s 10.99.0.0/16 -j ACCEPT'];

const forward = async () => (await rules('filter')).filter((r) => r.startsWith('-A FORWARD'));
/** FORWARD's rules when xnet's jump is right below DOCKER-USER */
const belowUser = async () => {
  const f = await forward();
  const [user, jump] = [f.indexOf('-A FORWARD -j DOCKER-USER'), f.indexOf('-A FORWARD -j XNET-FORWARD')];
  return user >= 0 && jump === user + 1 ? f : undefined;
};
/** The nft handle of xnet's jump in FORWARD (a new one each time the jump is put in anew). */
const forwardJumpHandle = async () => /jump XNET-FORWARD.* # handle (\d+)/.exec(await sh(h1(), ['nft', '-a', 'list', 'chain', 'ip', 'filter', 'FORWARD']))?.[1];
/** PIDs of `nft monitor rules` in host-1's namespace (the agent's). */
function nftMonitors(): number[] {
  const ns = statSync(h1().netnsPath).ino;
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return argv[0] === 'nft' && argv[1] === 'monitor' && statSync(`/proc/${p}/ns/net`).ino === ns ? [Number(p)] : [];
    } catch { return []; }
  });
}

beforeAll(async () => {
  lab = await agentLab(1);
  await createDefaultNetwork(lab.store, 1);
  // the admin's own rules, there before the agent starts
  await addAdminRules(h1());
  await lab.startAgent(h1());
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: NAT and forwarding rules are xnet\'s own', () => {
  it('a second ClusterNetwork gets its rules; the admin\'s rules stay, each once', async () => {
    await lab.store.create(obj('ClusterNetwork', 'extra', { cidr: '10.77.0.0/16', hostPrefix: 24, dockerNetwork: 'net7' }));
    await lab.store.create(obj('HostSubnet', 'extra-host-1', { node: 'host-1', clusterNetwork: 'extra', subnet: '10.77.1.0/24', bridge: 'br07', dockerRange: '10.77.1.128/25' }));
    await eventually(async () => (await rules('nat')).includes('-A XNET-POSTROUTING -s 10.77.1.0/24 -d 10.76.0.0/16 -j ACCEPT') ? true : undefined, 'extra\'s nat exemption', 30_000);
    await eventually(async () => (await rules('filter')).some((r) => r.startsWith('-A XNET-FORWARD -s 10.77.1.0/24')) ? true : undefined, 'extra\'s forward rules', 30_000);
    // the admin's MASQUERADE inserted on top afterwards: xnet's jump goes back above it, the rule stays
    await ipt(['-t', 'nat', '-I', 'POSTROUTING', '1', '-s', '10.99.0.0/16', '!', '-d', '10.99.0.0/16', '-j', 'MASQUERADE']);
    await eventually(async () => (await rules('nat')).find((r) => r.startsWith('-A POSTROUTING')) === '-A POSTROUTING -j XNET-POSTROUTING' ? true : undefined, 'xnet\'s jump on top again', HEAL_WAIT_MS);
    const nat = await rules('nat');
    for (const l of USER_NAT) expect(count(nat, l)).toBe(1);
    expect(count(nat, '-A POSTROUTING -j XNET-POSTROUTING')).toBe(1);
    for (const l of USER_FWD) expect(count(await rules('filter'), l)).toBe(1);
  });

  it('the ClusterNetwork gone: its rules go, the rest stay', async () => {
    await lab.store.delete('HostSubnet', 'extra-host-1');
    await lab.store.delete('ClusterNetwork', 'extra');
    await eventually(async () => ![...await rules('nat'), ...await rules('filter')].some((r) => r.includes('10.77.')) ? true : undefined, 'no rule names 10.77/16', 30_000);
    // and its Docker network gone with Docker's own rules for br07 (they went after xnet's, and
    // the restart test below once took them in its "before")
    await eventually(async () => !(await rules('filter')).some((r) => /\bbr07\b/.test(r)) ? true : undefined, "Docker's rules for br07 gone", 30_000);
    const nat = await rules('nat');
    expect(nat).toContain('-A XNET-POSTROUTING -s 10.76.1.0/24 -d 10.76.0.0/16 -j ACCEPT');
    for (const l of USER_NAT) expect(count(nat, l)).toBe(1);
    for (const l of USER_FWD) expect(count(await rules('filter'), l)).toBe(1);
  });

  // `iptables -I FORWARD` with nothing else is an admin's packet counter: iptables-save prints it
  // as a bare "-A FORWARD", which the agent's reading of the dump used to drop. Its positions were
  // then one short, and a jump put back went in one place too high, above DOCKER-USER: the admin's
  // rules there no longer decided first (and every pass after moved it again).
  it('puts its FORWARD jump back below DOCKER-USER when the admin has a bare counting rule above them', async () => {
    expect(await belowUser()).toBeDefined();
    await ipt(['-I', 'FORWARD', '1']);
    try {
      expect((await forward())[0]).toBe('-A FORWARD');
      await ipt(['-D', 'FORWARD', '-j', 'XNET-FORWARD']);
      const healed = await eventually(belowUser, 'xnet\'s FORWARD jump back, right below DOCKER-USER', HEAL_WAIT_MS)
        .catch(async (e) => { throw new Error(`${(e as Error).message}; FORWARD: ${(await forward()).join(' | ')}`); });
      expect(healed[0]).toBe('-A FORWARD');
      expect(count(healed, '-A FORWARD -j XNET-FORWARD')).toBe(1);
      // the next pass leaves it where it is (a jump found misplaced is deleted and inserted anew,
      // under a new handle): a pass is made to run by deleting the nat table's jump, and its
      // return shows that pass done
      const handle = await forwardJumpHandle();
      expect(handle, 'the nft handle of xnet\'s FORWARD jump').toBeDefined();
      await ipt(['-t', 'nat', '-D', 'POSTROUTING', '-j', 'XNET-POSTROUTING']);
      await eventually(async () => (await rules('nat')).includes('-A POSTROUTING -j XNET-POSTROUTING') ? true : undefined, 'the nat jump back (a nat pass ran)', HEAL_WAIT_MS);
      expect(await forwardJumpHandle(), 'the FORWARD jump moved again by a pass that had nothing to do').toBe(handle);
      expect(await forward()).toEqual(healed);
    } finally {
      await ipt(['-D', 'FORWARD', '1']);
    }
  });

  // `nft monitor` shows changes only: one that ended (killed) and was started again a second later
  // never told of a rule deleted in between, and the agent looked again only at its resync.
  it('puts back a jump deleted while its nft monitor was down, once the monitor runs again', async () => {
    const [nft] = nftMonitors();
    expect(nft, 'the agent\'s nft monitor in host-1\'s namespace').toBeGreaterThan(0);
    await breakAndCheck('jump deleted right after the nft monitor was killed', {
      whole: async () => (await belowUser()) !== undefined,
      breakIt: () => breakVerified((argv) => hostExec(h1(), argv), ['sh', '-c', `kill -9 ${nft} && iptables -D FORWARD -j XNET-FORWARD`],
        { argv: ['iptables', '-S', 'FORWARD'], gone: '-j XNET-FORWARD' }),
    });
    expect(nftMonitors()).not.toContain(nft);
  });

  it('an agent restart changes no rule', async () => {
    const before = [await rules('nat'), await rules('filter')];
    await lab.stopAgent(h1());
    await lab.startAgent(h1());
    // the first pass is done (startAgent awaits it); a moment for any event it caused
    await new Promise((r) => setTimeout(r, 1000));
    expect([await rules('nat'), await rules('filter')]).toEqual(before);
  });
});
