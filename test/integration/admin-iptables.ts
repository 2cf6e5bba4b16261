// An admin's own iptables rules in a lab host, for the tests that check xnet leaves them alone:
// a nat chain of theirs jumped to from POSTROUTING and a FORWARD rule. Each command must work
// (else a test that finds them untouched would prove nothing).
import type { LabHost } from '../../pkg/lab/index.js';
import { hostExec } from '../../pkg/lab/index.js';
import { mustSucceed } from '../harness/heal.js';

export const ipt = async (h: LabHost, argv: string[]) => { mustSucceed(`iptables ${argv.join(' ')}`, await hostExec(h, ['iptables', ...argv])); };

export async function addAdminRules(h: LabHost): Promise<void> {
  await ipt(h, ['-t', 'nat', '-N', 'USER-NAT']);
  await ipt(h, ['-t', 'nat', '-A', 'USER-NAT', '-s', '10.98.0.0/16', '-j', 'RETURN']);
  await ipt(h, ['-t', 'nat', '-A', 'POSTROUTING', '-j', 'USER-NAT']);
  await ipt(h, ['-t', 'filter', '-A', 'FORWARD', '-s', '10.99.0.0/16', '-j', 'ACCEPT']);
}
