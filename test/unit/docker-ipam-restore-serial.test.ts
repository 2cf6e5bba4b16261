// A restarted dockerd's restore sends its requests one after another (libnetwork creates the
// endpoints of one network under a per-network lock: Network.CreateEndpoint holds
// ctrlr.networkLocker.Lock(n.id) around createEndpoint -> ep.assignAddress -> ipam.RequestAddress).
// Each request without --ip used to ping Docker first and wait out its 2 s bound (a restoring
// dockerd's socket accepts, and answers nothing until the restore is done): 2 s more per
// container, the dockerd's API down meanwhile; 300 containers, past RESTORE_MAX_MS (10 min).
// Now one ping is kept out for the whole restore (pkg/dockeripam/restore.ts): a request that
// comes while it is unanswered is the restore's, at once; its answer ends the restore.
import { expect, it } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';
const net = { subnet: '10.9.0.0/24', gateway: '10.9.0.1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** the agent's bound on one ping of Docker (pkg/agent/ipam-host.ts) */
const DOCKER_PING_MS = 2000;

it('a restore of 3 containers on one network, their requests one after another as libnetwork sends them, is not slowed by seconds', async () => {
  let restoring = false;
  // the agent's ping: withTimeout(docker.ping(), 2000) -> false while the dockerd restores
  const dockerPing = async () => { if (!restoring) return true; await sleep(DOCKER_PING_MS); return false; };
  const book = new AddressBook(new MemoryJournal(), () => {});
  const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 20_000, dockerPing, starting: async () => false });
  book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12', '10.9.0.13'], net);
  const ip = async () => (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0];
  const held = [await ip(), await ip(), await ip()];
  held.forEach((a, i) => { book.identify('mv', a, `c${i}`, `c${i}`); book.learn('mv', a, `c${i}`, { restarts: true, pinned: false }); });
  ipam.dockerAnswers(true);
  ipam.dockerAnswers(false); // dockerd stopped: it releases what its running containers held
  for (const a of held) await ipam.releaseAddress('mv', a);
  restoring = true;
  await ipam.activate(); // 2 s: the Activate's own ping
  const t0 = Date.now();
  const got: string[] = [];
  try {
    for (let i = 0; i < 3; i++) got.push(await ip()); // one at a time: libnetwork's per-network lock
  } finally { await ipam.close(); }
  const took = Date.now() - t0;
  expect(got.sort()).toEqual([...held].sort()); // each comes back on a kept address (the guess)
  // each request used to wait out its own ping (2 s): the three of them, at least 6 s; now none
  // waits for one, so the three together take less than one ping's bound
  expect(took, 'ms the restore of 3 containers on one network spent in the plugin').toBeLessThan(DOCKER_PING_MS);
}, 30_000);

/**
 * A node with c1 (restart always) and c2 (on-failure, exited 0: a finished job), then its
 * dockerd restarted and restoring: each ping is held (`boundMs`, then it fails) until serve()
 * answers the ones out, as a restoring dockerd's socket does once it serves its API.
 */
async function restoringWithJob(boundMs: number) {
  let up = true;
  const held: (() => void)[] = [];
  const dockerPing = () => (up ? Promise.resolve(true) : new Promise<boolean>((resolve) => {
    const bound = setTimeout(() => resolve(false), boundMs);
    held.push(() => { clearTimeout(bound); resolve(true); });
  }));
  const book = new AddressBook(new MemoryJournal(), () => {});
  const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 5000, dockerPing, starting: async () => false });
  book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], net);
  const ip = async () => (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0];
  const [always, job] = [await ip(), await ip()];
  book.identify('mv', always, 'c1', 'c1'); book.learn('mv', always, 'c1', { restarts: true, pinned: false });
  book.identify('mv', job, 'c2', 'c2'); book.learn('mv', job, 'c2', { restarts: true, pinned: false });
  ipam.dockerAnswers(true);
  await ipam.releaseAddress('mv', job); // the job exited 0: on-failure does not start it again
  ipam.dockerAnswers(false); // dockerd stopped: it releases what its running containers held
  await ipam.releaseAddress('mv', always);
  up = false;
  await ipam.activate();
  /** The API serves: the pings out are answered (returned, to answer later), new ones at once. */
  const serve = () => { up = true; return held.splice(0); };
  return { ipam, ip, always, serve };
}

it('the ping kept out through the restore is answered once the API serves: the restore is over, a container run then gets a free address', async () => {
  const { ipam, ip, always, serve } = await restoringWithJob(DOCKER_PING_MS);
  try {
    expect(await ip()).toBe(always); // the restore starts c1 again
    // restored: its API answers the ping kept out; the agent's event stream is still waiting
    serve().forEach((answer) => answer());
    await sleep(0); // docker run comes through that API, after it answered
    expect(await ip(), 'docker run after the restore').toBe('10.9.0.12'); // not the job's kept address
  } finally { await ipam.close(); }
}, 30_000);

// The restored dockerd answers the ping it held at once as it serves; a `docker run` through its
// API comes to the plugin later (the CLI's own ping, the create, the start). Both may still be
// read by the agent in one turn of its event loop (busy meanwhile): a request handled before
// the ping's answer, already read, was taken as the restore's, and got a kept address not
// meant for it. Here the ping's answer is read in the turn after the request came (setImmediate).
it('the held ping answered in the same turn of the agent as a docker run\'s request: the run gets a free address, not a kept one', async () => {
  const { ipam, ip, always, serve } = await restoringWithJob(300); // a bound shorter than the agent's 2 s (the test's time)
  try {
    expect(await ip()).toBe(always); // the restore starts c1 again
    const answers = serve();
    setImmediate(() => answers.forEach((answer) => answer())); // the ping's answer, read with the run's request
    expect(await ip(), 'docker run whose request came with the ping\'s answer').toBe('10.9.0.12'); // not the job's kept address
  } finally { await ipam.close(); }
}, 30_000);
