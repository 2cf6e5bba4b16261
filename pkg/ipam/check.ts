// Placeholder until the controller work lands: `xctl ipam check`.
import type { Etcd3 } from 'etcd3';

export interface IpamCheckReport { text: string; problems: number }

export async function ipamCheck(_client: Etcd3, _prefix = '/xnet'): Promise<IpamCheckReport> {
  return { text: 'ipam check: not implemented yet\n', problems: 1 };
}
