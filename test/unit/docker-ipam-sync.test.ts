// The agent's IPAM sync (pkg/agent/reconcilers/docker-ipam.ts) against the plugin's requests
// arriving while it waits on Docker: a review reproduced (/tmp/review-ipam/race.mjs, race2.mjs)
// the sync acting on its older copy of an address's entry after an inspect, handing out an
// address a running container holds. Pure: the real book and NodeIpam, a fake Docker whose
// inspect the test holds open.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentContext } from '../../pkg/agent/context.js';
import { syncDockerIpam } from '../../pkg/agent/reconcilers/docker-ipam.js';
import { MAX_HOME_ASKS } from '../../pkg/agent/reconcilers/home-asks.js';
import type { ContainerInfo, NetworkEndpoint } from '../../pkg/docker/types.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';

/** A Docker whose inspect of `held` waits until release(); `inspecting` resolves once it is asked. */
function fakeDocker(endpoints: NetworkEndpoint[], containers: Record<string, ContainerInfo | undefined>, held: string) {
  let release!: () => void;
  let asked!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const inspecting = new Promise<void>((r) => { asked = r; });
  const docker = {
    networkEndpoints: async () => endpoints,
    inspectContainer: async (id: string) => {
      if (id === held) { asked(); await gate; }
      return containers[id];
    },
    disconnect: async () => {}, connect: async () => {},
  };
  const ctx = { log, node: 'h1', caches: { macvlanNets: { get: () => undefined } }, dp: { docker, containerState: async () => undefined } };
  return { ctx: ctx as unknown as AgentContext, release, inspecting };
}

/** A plugin on MacvlanNet m with three addresses, container C running on the first (identified, learnt). */
/** A book whose MacvlanNet m has three addresses at hand, and the plugin that answers from it. */
/** `startingNow`: the stopped containers Docker is starting (../../pkg/dockeripam/kept-owner.ts). */
function threeAddresses(startingNow = new Set<string>()) {
  const book = new AddressBook(new MemoryJournal(), () => {});
  book.setPool('m', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], { subnet: '10.9.0.0/24' });
  return { book, ipam: new NodeIpam({ book, log, otherHolder: () => undefined, starting: async (c) => startingNow.has(c) }) };
}

async function withRunningC(startingNow?: Set<string>) {
  const { book, ipam } = threeAddresses(startingNow);
  const x = await address(ipam);
  book.identify('m', x, 'C', 'c');
  book.learn('m', x, 'C', { restarts: false, pinned: false });
  return { book, ipam, x };
}

const address = async (ipam: NodeIpam) => (await ipam.requestAddress({ PoolID: 'm' })).split('/')[0];
const running = (id: string): ContainerInfo => ({ id, name: id.toLowerCase(), running: true, pid: 0, restartPolicy: 'no', startedAt: '2026-01-01T00:00:00Z' });

describe('IPAM sync while the plugin answers Docker', () => {
  it('docker restart C during the sync\'s inspect of C: C keeps its address, no other container gets it', async () => {
    const { book, ipam, x } = await withRunningC(new Set(['C']));
    // read while C's endpoint is gone, before Docker's ReleaseAddress arrives; inspect(C) blocks
    const docker = fakeDocker([], { C: running('C') }, 'C');
    const sync = syncDockerIpam(docker.ctx, book, { metadata: { name: 'm' } } as never, 'net');
    await docker.inspecting;
    await ipam.releaseAddress('m', `${x}/24`); // C stops: X kept for it
    expect(await address(ipam)).toBe(x); // C starts again on X (lent)
    docker.release();
    await sync;
    expect(book.isKept('m', x)).toBe(false); // not taken back for a "stopped" C
    expect(await address(ipam)).not.toBe(x); // the next docker run gets another
  });

  it('docker rm C; docker run D during the sync\'s inspect of C: D gets another address, C\'s is freed once C is gone', async () => {
    const { book, ipam, x } = await withRunningC();
    await ipam.releaseAddress('m', `${x}/24`); // C stopped: X kept for C
    const docker = fakeDocker([], { C: undefined }, 'C'); // docker rm C: the destroy event's sync
    const sync = syncDockerIpam(docker.ctx, book, { metadata: { name: 'm' } } as never, 'net');
    await docker.inspecting;
    const d = await address(ipam); // docker run D meanwhile: a new container, never C's kept X
    expect(d).not.toBe(x);
    book.identify('m', d, 'D', 'd');
    docker.release(); // "no such container C"
    await sync;
    expect(book.assigned('m').map((a) => a.ip)).toContain(d); // D's entry is not dropped
    expect(book.free('m')).toContain(x); // C is gone: its address is free again
  });

  // Found in docker-ipam-kept-stop (a lab run): a sync read the network while the lab's dockerd
  // killed kc, whose endpoint had left its sandbox and was not deleted yet; Docker lists such
  // an endpoint as `ep-<endpoint ID>`. Taken for the holder, kc's address was freed at the next
  // sync ("freeing the address of a removed container": inspect of ep-... answers 404), and the
  // next docker run got the address kc, stopped, kept.
  it('an endpoint Docker lists in no sandbox (ep-...) while C stops is not taken for the address\'s holder: C\'s address stays kept for it', async () => {
    const { book, ipam, x } = await withRunningC();
    const stopped: ContainerInfo = { ...running('C'), running: false, networks: ['net'] };
    const mvn = { metadata: { name: 'm' } } as never;
    await syncDockerIpam(fakeDocker([{ container: 'ep-5f3a9c', name: 'c', ip: x }], { C: stopped }, '').ctx, book, mvn, 'net');
    await ipam.releaseAddress('m', `${x}/24`); // C stopped: X kept for it
    await syncDockerIpam(fakeDocker([], { C: stopped }, '').ctx, book, mvn, 'net');
    expect(book.holder('m', x)).toBe('container c (stopped; the address is kept for it)');
    expect(await address(ipam)).not.toBe(x); // docker run D gets another
  });

  it('an address released after Docker listed it live is not made live again from that list', stopDuringSync);

  // Under load the sync's inspect of W outlasts a millisecond: W's missed release, stamped
  // when the sync noticed it, came after C's ReleaseAddress and C's restart got W's address.
  // In one millisecond it came out right only by the book's order.
  afterEach(() => { vi.restoreAllMocks(); });
  it.each([
    ['a clock that moves on every read', () => { let t = 1_000_000; return () => ++t; }],
    ['a clock that stands still', () => () => 1_000_000],
  ])('the same with %s: the restart gets its own address, not the one the sync found stopped', async (_, clock) => {
    vi.spyOn(Date, 'now').mockImplementation(clock());
    await stopDuringSync();
  });
});

/** W stopped unseen (its release missed), C stops while the sync waits on Docker for W. */
async function stopDuringSync() {
  const { book, ipam } = threeAddresses(new Set(['C'])); // C's docker start
  // the sync looks at W's address first (the book's order); W's inspect blocks
  const w = await address(ipam);
  book.identify('m', w, 'W', 'w');
  const x = await address(ipam);
  book.identify('m', x, 'C', 'c');
  book.learn('m', x, 'C', { restarts: false, pinned: false });
  const docker = fakeDocker([{ container: 'C', name: 'c', ip: x }], { W: running('W'), C: running('C') }, 'W');
  const sync = syncDockerIpam(docker.ctx, book, { metadata: { name: 'm' } } as never, 'net');
  await docker.inspecting;
  await ipam.releaseAddress('m', `${x}/24`); // C stops after Docker listed it on X
  docker.release();
  await sync;
  expect(book.isKept('m', w)).toBe(true); // W's missed release: kept for W
  expect(book.isKept('m', x)).toBe(true); // still kept for stopped C, its restart gets it back
  expect(await address(ipam)).toBe(x);
}

describe('address book entry revisions', () => {
  it('an entry read before any change of it, or before it went and came back, is no longer unchanged', async () => {
    const { book, ipam, x } = await withRunningC(new Set(['C']));
    const read = () => book.entry('m', x)!;
    const steps: Array<[string, () => unknown]> = [
      ['released (kept)', () => ipam.releaseAddress('m', `${x}/24`)],
      ['lent', () => address(ipam)],
      ['identified', () => book.identify('m', x, 'C', 'c')],
      ['learnt', () => book.learn('m', x, 'C', { restarts: true, pinned: false })],
      ['unlearnt', () => book.unlearn('C')],
      ['dropped and handed out again', async () => { book.drop('m', x); expect(await address(ipam)).toBe(x); }],
    ];
    for (const [what, change] of steps) {
      const before = read();
      expect(book.unchanged('m', before), what).toBe(true);
      await change();
      expect(book.unchanged('m', before), what).toBe(false);
    }
    book.identify('m', x, 'D', 'd');
    const after = read();
    book.identify('m', x, 'D', 'd'); // says nothing new: the entry stays as read
    expect(book.unchanged('m', after)).toBe(true);
  });
});

describe('the restart guess among addresses released in one millisecond', () => {
  afterEach(() => { vi.restoreAllMocks(); });
  it('is the one released last, whatever the book\'s order', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_000_000);
    const { book, ipam } = threeAddresses(new Set(['A', 'B'])); // both look as being started
    const a = await address(ipam);
    book.identify('m', a, 'A', 'a');
    const b = await address(ipam);
    book.identify('m', b, 'B', 'b');
    await ipam.releaseAddress('m', `${b}/24`);
    await ipam.releaseAddress('m', `${a}/24`); // docker restart A, in the same millisecond
    expect(await address(ipam)).toBe(a);
  });
});

// Found in a lab: `docker network disconnect N C; docker network connect --ip Y N C` left C on
// Y for a moment, then the agent moved it back to the address kept for it since the disconnect
// ("moving restarted containers back to their addresses") and pinned it there with --ip.
describe('a container that asked for another address with --ip', () => {
  it('keeps it: not moved back to the address kept for it, which is freed', async () => {
    const { book, ipam, x } = await withRunningC();
    await ipam.releaseAddress('m', `${x}/24`); // docker network disconnect: X kept for C
    const y = '10.9.0.12';
    expect((await ipam.requestAddress({ PoolID: 'm', Address: y })).split('/')[0]).toBe(y); // connect --ip Y
    const moves: string[] = [];
    const docker = fakeDocker([{ container: 'C', name: 'c', ip: y }], { C: { ...running('C'), pinnedIps: { net: y } } }, 'none');
    (docker.ctx.dp.docker as unknown as { connect: (n: string, c: string, ip?: string) => Promise<void> }).connect = async (_n, c, ip) => { moves.push(`${c} -> ${ip}`); };
    await syncDockerIpam(docker.ctx, book, { metadata: { name: 'm' } } as never, 'net');
    expect(moves).toEqual([]);
    expect(book.isKept('m', x)).toBe(false);
    expect(book.free('m')).toContain(x);
  });

  it('a container that came back on another address without --ip is still moved home', async () => {
    const { book, ipam, x } = await withRunningC();
    await ipam.releaseAddress('m', `${x}/24`);
    const y = '10.9.0.12';
    await ipam.requestAddress({ PoolID: 'm', Address: y });
    const moves: string[] = [];
    const docker = fakeDocker([{ container: 'C', name: 'c', ip: y }], { C: running('C') }, 'none');
    (docker.ctx.dp.docker as unknown as { connect: (n: string, c: string, ip?: string) => Promise<void> }).connect = async (_n, c, ip) => { moves.push(`${c} -> ${ip}`); };
    await syncDockerIpam(docker.ctx, book, { metadata: { name: 'm' } } as never, 'net');
    expect(moves).toEqual([`C -> ${x}`]);
  });
});

// Found in review of 4c671bc: a home missing from the node's pool was given up at once, also
// while the pool only briefly lacked it (the node's Node deleted and made again, or an agent
// restarted before the controller's round): the controller claims it back (it is in use in the
// node's report, inside the range). Only a home outside the range is never given back.
describe('a container that came back on another address while its home is not in the node\'s pool', () => {
  const back = async (spec: Record<string, unknown>) => {
    const { book, ipam, x } = await withRunningC();
    await ipam.releaseAddress('m', `${x}/24`); // docker stop C: X kept for it
    const y = '10.9.0.12';
    await ipam.requestAddress({ PoolID: 'm', Address: y }); // C starts again on Y
    book.setPool('m', ['10.9.0.11', '10.9.0.12'], { subnet: '10.9.0.0/24' }); // X not in the pool now
    const moves: string[] = [];
    const eps = [{ container: 'C', name: 'c', ip: y }];
    const docker = fakeDocker(eps, { C: running('C') }, 'none');
    const d = docker.ctx.dp.docker as unknown as { connect: (n: string, c: string, ip?: string) => Promise<void>; disconnect: (n: string, c: string) => Promise<void> };
    d.connect = async (_n, c, ip) => { moves.push(`${c} -> ${ip}`); };
    d.disconnect = async (_n, c) => { moves.push(`${c} off`); };
    const sync = () => syncDockerIpam(docker.ctx, book, { metadata: { name: 'm' }, spec: { subnet: '10.9.0.0/24', ...spec } } as never, 'net');
    await sync();
    return { book, x, moves, sync, eps };
  };

  // Found in review: a home the controller no longer lists for the node (another node's
  // pre-claim, which this agent does not see) was moved to at once: the container was taken
  // off the network, the plugin asked the controller then, and a refusal left it on any address.
  it('inside the range: stays where it is and asks the controller for its home; moved once granted', async () => {
    const { book, x, moves, sync } = await back({});
    expect(moves).toEqual([]);
    expect(book.report('m').requested).toEqual([x]);
    book.setPool('m', [x, '10.9.0.11', '10.9.0.12'], { subnet: '10.9.0.0/24' }); // granted
    await sync();
    expect(moves).toEqual(['C off', `C -> ${x}`]);
    expect(book.report('m').requested).toEqual([]);
  });

  it('inside the range, refused by the controller: keeps its address, never off the network, the home freed and no longer asked for', async () => {
    const { book, x, moves, sync } = await back({});
    book.setPool('m', ['10.9.0.11', '10.9.0.12'], { subnet: '10.9.0.0/24' }, undefined, new Map([[x, 'in use by a container on node "h2"']]));
    await sync();
    await sync();
    expect(moves).toEqual([]);
    expect(book.isKept('m', x)).toBe(false);
    expect(book.report('m').requested).toEqual([]);
  });

  // Lab tests run several agents in one process: their asks were one module's, so one node's
  // sync ended another's ask, and the refusal that came meanwhile no longer counted for it.
  it('refused while another agent in the same process syncs: still keeps its address, the home freed', async () => {
    const { book, x, moves, sync } = await back({});
    const other = threeAddresses().book;
    book.setPool('m', ['10.9.0.11', '10.9.0.12'], { subnet: '10.9.0.0/24' }, undefined, new Map([[x, 'in use by a container on node "h2"']]));
    await syncDockerIpam(fakeDocker([], {}, 'none').ctx, other, { metadata: { name: 'm' }, spec: { subnet: '10.9.0.0/24' } } as never, 'net');
    await sync();
    expect(moves).toEqual([]);
    expect(book.isKept('m', x)).toBe(false);
  });

  it('the container gone while its home is asked for: no longer asked for', async () => {
    const { book, moves, sync, eps } = await back({});
    eps.length = 0; // docker rm -f C
    await sync();
    expect(moves).toEqual([]);
    expect(book.report('m').requested).toEqual([]);
  });

  it('outside the range since an edit: keeps where it is, the home is freed', async () => {
    const { book, moves, x } = await back({ ipRange: '10.9.0.11/32' });
    expect(moves).toEqual([]);
    expect(book.isKept('m', x)).toBe(false);
    expect(book.report('m').requested).toEqual([]);
  });
});

// The report's `requested` is journalled: an agent stopped while a --ip request (or an ask for a
// kept home) waited left the address asked for, by a node that no longer wants it, for good.
describe('an address asked for by name that nothing waits for any more', () => {
  it('after an agent restart, is no longer asked for once the IPAM sync ran; one a --ip request in flight waits for still is', async () => {
    const journal = new MemoryJournal();
    const before = new AddressBook(journal, () => {});
    before.setPool('m', ['10.9.0.10'], { subnet: '10.9.0.0/24' });
    before.ask('m', { ip: '10.9.0.20' }); // a --ip request in flight when the agent stopped
    const book = new AddressBook(journal, () => {}); // the agent started again
    expect(book.report('m').requested).toEqual(['10.9.0.20']);
    book.ask('m', { ip: '10.9.0.21' }); // a --ip request of this agent, waiting
    const docker = fakeDocker([], {}, 'none');
    await syncDockerIpam(docker.ctx, book, { metadata: { name: 'm' }, spec: { subnet: '10.9.0.0/24' } } as never, 'net');
    expect(book.report('m').requested).toEqual(['10.9.0.21']);
  });
});

// Found in review of 3ed13144: a dockerd restoring its containers guessed wrong, C1 on C2's
// home X2 and C2 on a fresh address, while C1's own home X1 was not in the node's pool (another
// node's pre-claim meanwhile). C1 now stays on X2 while X1 is asked for, yet C2 was moved to X2
// at once: taken off the network, refused by the plugin (C1 holds X2) and connected again on any
// address, twice over. C2 waits for C1 instead; both move once X1 is granted.
describe('two restarted containers, one on the other\'s home, the first one\'s home asked for', () => {
  it('the other is not taken off the network while the first stays on its home; both moved once granted', async () => {
    const { book, ipam } = threeAddresses();
    const [x1, x2, z] = ['10.9.0.10', '10.9.0.11', '10.9.0.12'];
    for (const [ip, c] of [[x1, 'C1'], [x2, 'C2']]) {
      expect((await ipam.requestAddress({ PoolID: 'm', Address: ip })).split('/')[0]).toBe(ip);
      book.identify('m', ip, c, c.toLowerCase());
      await ipam.releaseAddress('m', `${ip}/24`); // stopped: kept for it
    }
    book.setPool('m', [x2, z], { subnet: '10.9.0.0/24' }); // X1 not this node's now
    book.lend('m', x2); book.identify('m', x2, 'C1', 'c1'); // the restore's guess: C1 on X2
    expect(await address(ipam)).toBe(z); book.identify('m', z, 'C2', 'c2');
    const eps: NetworkEndpoint[] = [{ container: 'C1', name: 'c1', ip: x2 }, { container: 'C2', name: 'c2', ip: z }];
    const moves: string[] = [];
    const docker = fakeDocker(eps, { C1: running('C1'), C2: running('C2') }, 'none');
    const d = docker.ctx.dp.docker as unknown as { connect: (n: string, c: string, ip?: string) => Promise<void>; disconnect: (n: string, c: string) => Promise<void> };
    d.disconnect = async (_n, c) => {
      const i = eps.findIndex((e) => e.container === c);
      await ipam.releaseAddress('m', `${eps[i].ip}/24`);
      eps.splice(i, 1);
      moves.push(`${c} off`);
    };
    d.connect = async (_n, c, ip) => { // the real plugin answers Docker's request
      const got = (await ipam.requestAddress({ PoolID: 'm', ...(ip ? { Address: ip } : {}) }).catch((e: Error) => { moves.push(`${c} -> ${ip} refused`); throw e; })).split('/')[0];
      book.identify('m', got, c, c.toLowerCase());
      eps.push({ container: c, name: c.toLowerCase(), ip: got });
      moves.push(`${c} -> ${got}`);
    };
    const sync = () => syncDockerIpam(docker.ctx, book, { metadata: { name: 'm' }, spec: { subnet: '10.9.0.0/24' } } as never, 'net');
    await sync();
    await sync();
    expect(moves).toEqual([]);
    expect(book.report('m').requested).toEqual([x1]);
    book.setPool('m', [x1, x2, z], { subnet: '10.9.0.0/24' }); // granted
    await sync();
    expect(moves.filter((m) => !m.endsWith(' off'))).toEqual([`C1 -> ${x1}`, `C2 -> ${x2}`]);
  });
});

// Found in review of 3ed13144: past MAX_HOME_ASKS a container's home is not asked for (it waits
// for a turn), yet the agent logged "asking the controller ..." for it at every sync.
describe('more containers asking for their homes than MAX_HOME_ASKS', () => {
  afterEach(() => { vi.restoreAllMocks(); });
  it('the agent says it asks only for those it asks for, once each', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    const ip = (i: number) => `10.9.0.${10 + i}`;
    const n = MAX_HOME_ASKS + 1;
    book.setPool('m', Array.from({ length: 2 * n }, (_, i) => ip(i)), { subnet: '10.9.0.0/24' });
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, starting: async () => false });
    const eps: NetworkEndpoint[] = [];
    for (let i = 0; i < n; i++) {
      await ipam.requestAddress({ PoolID: 'm', Address: ip(i) }); book.identify('m', ip(i), `C${i}`, `c${i}`);
      await ipam.releaseAddress('m', `${ip(i)}/24`); // stopped: kept for it
      await ipam.requestAddress({ PoolID: 'm', Address: ip(n + i) }); book.identify('m', ip(n + i), `C${i}`, `c${i}`);
      eps.push({ container: `C${i}`, name: `c${i}`, ip: ip(n + i) });
    }
    book.setPool('m', Array.from({ length: n }, (_, i) => ip(n + i)), { subnet: '10.9.0.0/24' }); // the homes another node's
    const said = vi.spyOn(log, 'info');
    const docker = fakeDocker(eps, Object.fromEntries(eps.map((e) => [e.container, running(e.container)])), 'none');
    for (let i = 0; i < 2; i++) await syncDockerIpam(docker.ctx, book, { metadata: { name: 'm' }, spec: { subnet: '10.9.0.0/24' } } as never, 'net');
    expect(book.report('m').requested.length).toBe(MAX_HOME_ASKS);
    const asking = said.mock.calls.filter(([m]) => String(m).startsWith('asking the controller for the address kept'));
    expect(asking.length).toBe(MAX_HOME_ASKS);
  });
});
