// A restarted dockerd's restore (pkg/dockeripam/restore.ts): its requests are guessed for by
// restart policy, but once its API answers, a request comes from a container run through that
// API (the agent's event stream may connect again only seconds later) and gets no kept address
// but its own. Docker's ping and its starting check are given; no Docker, no etcd.
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';
const net = { subnet: '10.9.0.0/24', gateway: '10.9.0.1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A node with c1 (restart always), c2 (on-failure, exited 0: a finished job) and c3 (no policy), then its dockerd restarted. */
async function restarted(ping: () => Promise<boolean>) {
  const book = new AddressBook(new MemoryJournal(), () => {});
  const startingNow = new Set<string>();
  const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 200, dockerPing: ping, starting: async (c) => startingNow.has(c) });
  book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12', '10.9.0.13'], net);
  const ip = async () => (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0];
  const [always, job, none] = [await ip(), await ip(), await ip()];
  book.identify('mv', always, 'c1', 'c1'); book.learn('mv', always, 'c1', { restarts: true, pinned: false });
  book.identify('mv', job, 'c2', 'c2'); book.learn('mv', job, 'c2', { restarts: true, pinned: false });
  book.identify('mv', none, 'c3', 'c3'); book.learn('mv', none, 'c3', { restarts: false, pinned: false });
  ipam.dockerAnswers(true);
  await ipam.releaseAddress('mv', job); // the job exited 0: on-failure does not start it again
  await sleep(5);
  ipam.dockerAnswers(false); // dockerd stopped: it releases what its running containers held
  await ipam.releaseAddress('mv', always); await ipam.releaseAddress('mv', none);
  await ipam.activate();
  return { book, ipam, ip, startingNow, always, job };
}

describe('a request while a restarted dockerd is taken to restore', () => {
  it('while Docker\'s API does not answer, it is the restore\'s: it gets the kept address of a container that restarts', async () => {
    const { ip, always } = await restarted(async () => false);
    expect(await ip()).toBe(always);
  });

  it('once Docker\'s API answers, before the agent\'s event stream connects again, a new container gets a free address, and a stopped one started its own', async () => {
    let up = false;
    const { ip, always, job, startingNow } = await restarted(async () => up);
    expect(await ip()).toBe(always); // the restore starts c1 again
    up = true; // restored: its API answers; the agent's event stream is still waiting to connect again
    // docker run: before, it got the job's kept address (restarts: true, so the restore's guess)
    expect(await ip()).toBe('10.9.0.13');
    startingNow.add('c2'); // docker start c2: Docker holds its lock (its inspect waits)
    expect(await ip()).toBe(job);
  });

  it('once one request found the API answering, the restore is over for the later ones too, until the next Activate', async () => {
    let up = false;
    const { ip, ipam, always, job } = await restarted(async () => up);
    expect(await ip()).toBe(always);
    up = true;
    expect(await ip()).toBe('10.9.0.13');
    up = false; // a ping lost under load: no Activate, so no restore again
    await expect(ip()).rejects.toThrow(/no free address/); // the job's kept address stays kept
    await ipam.activate(); // the dockerd restarted again, its API not answering: a restore again
    expect(await ip()).toBe(job); // the restore's guess (c2 on-failure: it may be started again)
  });
});
