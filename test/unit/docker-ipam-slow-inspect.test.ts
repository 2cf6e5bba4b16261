// Outside a restore, a request without --ip gives a stopped container's kept address only to
// the one Docker is starting (pkg/dockeripam/kept-owner.ts): its inspect waits on the lock
// Docker holds while it starts it. No answer within STARTING_PROBE_MS (1 s) was all it took:
// a dockerd slow to answer at all (loaded, or just restored) answers every inspect late, and a
// brand-new `docker run` then got a kept address, which docs/design.md says it never does. Now
// a ping of Docker sent with the inspects is the reference: an inspect is the starting one only
// if it is still unanswered STARTING_PROBE_MS (or as long as the ping took, if longer) after
// that ping answered, and a ping not answered within STARTING_PING_MS says Docker is too slow
// to tell: no kept address goes out.
// The real inspectWaits, as ipam-host.ts wires it; Docker answers every call in 1.5 s.
import { expect, it } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { inspectWaits } from '../../pkg/dockeripam/kept-owner.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A node whose stopped container C keeps address x; then its dockerd turns slow (every call
 * answered in 1.5 s, C's lock free unless `startC()`: Docker then holds it until the plugin answers).
 */
async function slowDockerd() {
  let slow = false;
  let startingC = false;
  const inspect = async (id: string) => {
    if (id === 'C' && startingC) return new Promise(() => {}); // waits on C's lock
    if (slow) await sleep(1500);
    return { id, running: false };
  };
  const ping = async () => { if (slow) await sleep(1500); };
  const book = new AddressBook(new MemoryJournal(), () => {});
  book.setPool('m', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], { subnet: '10.9.0.0/24' });
  const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, starting: inspectWaits(inspect, ping), dockerPing: async () => true });
  const ip = async () => (await ipam.requestAddress({ PoolID: 'm' })).split('/')[0];
  const x = await ip();
  book.identify('m', x, 'C', 'c');
  book.learn('m', x, 'C', { restarts: false, pinned: false });
  await ipam.releaseAddress('m', `${x}/24`); // docker stop C: x kept for C
  slow = true; // Docker loaded
  return { ip, x, startC: () => { startingC = true; } };
}

it('docker run on a slow dockerd (every call answered in 1.5 s) gets a free address, not the one kept for stopped C', async () => {
  const { ip, x } = await slowDockerd(); // its inspect of stopped C takes 1.5 s, C's lock free
  expect(await ip(), 'docker run D').not.toBe(x);
}, 10_000);

// The same slow dockerd starting C (`docker start C`): Docker holds C's lock until the plugin
// answers, so C's inspect stays unanswered. The ping took over 1 s: C got a free address, and
// the agent then took C off the network and connected it again on its own (moved home).
it('docker start C on a slow dockerd (every call answered in 1.5 s) gets the address kept for C', async () => {
  const { ip, x, startC } = await slowDockerd();
  startC();
  expect(await ip(), 'docker start C').toBe(x);
}, 15_000);
