// A compromised node listing, in its MacvlanNet IPAM report, containers on addresses it does not
// hold (another node's pre-claimed ones, its shim, addresses outside the pool) with its own
// certificate: the MacvlanNet's `status.used`, which every node reads and `xctl get` shows,
// counts of its report only the addresses pre-claimed for it (pkg/controller/macvlan-status.ts).
// Before, it counted every address the report listed. Real etcd with TLS and auth: the report
// as node-host-1, the controller as xnet-controller.
import { describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';
import { eventually, statusOf } from './controller-helpers.js';
import { lanParts, twoNodeLan, useHostileNodeFixture } from './trust-fixture.js';

const fx = useHostileNodeFixture();
const keys = new Keys();

const status = async () => statusOf(await fx.admin.get('MacvlanNet', 'lan'));
const parts = () => lanParts(fx);

describe("a node's IPAM report listing addresses it does not hold", () => {
  it("counts in the MacvlanNet's used only the addresses pre-claimed for that node", async () => {
    const settled = await twoNodeLan(fx, true);
    const [mine, theirs] = ['host-1', 'host-2'].map((n) => settled.find((p) => p.name === n)!);
    const listed = [mine.addresses![0], mine.addresses![1], ...theirs.addresses!.slice(0, 5), theirs.shimAddress!, '10.80.0.254', '192.0.2.7'];
    await fx.host1.put(keys.status('MacvlanNet', 'lan', { node: 'host-1' })).value(JSON.stringify({
      ready: true, message: 'listed', ipam: { assigned: listed.map((ip, i) => ({ ip, container: `c${i}` })), returned: [], external: [], requested: [], want: 0 },
    }));
    const after = await eventually(async () => { const p = (await parts()).find((n) => n.name === 'host-1'); return p?.message === 'listed' && p; }, "host-1's report taken");
    // its two, and 10.80.0.254, which nobody held: claimed for it as in use (macvlan-reclaim.ts);
    // not host-2's five nor its shim, nor 192.0.2.7 outside the pool
    expect(after.addresses).toContain('10.80.0.254');
    expect((await status()).used).toBe(3);
    // and host-2 keeps what it held
    expect((await parts()).find((n) => n.name === 'host-2')).toEqual(theirs);
  }, 60_000);
});
