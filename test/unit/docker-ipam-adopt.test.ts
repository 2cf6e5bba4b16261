// The IPAM plugin adopting what Docker has: with its journal lost or cut short, the addresses
// Docker's containers on this node still hold are recorded as in use (and journaled) before
// any RequestAddress is answered. Pure: Docker's endpoint list is given, no Docker, no etcd.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Adoption, planAdoption, sharedAddresses, type SeenEndpoint } from '../../pkg/dockeripam/adopt.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { FileJournal, MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger, type Logger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';
const net = { subnet: '10.9.0.0/24', gateway: '10.9.0.1' };
const ep = (ip: string, container: string, mvn = 'mv'): SeenEndpoint => ({ mvn, ip, container, name: `n-${container}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('what the plugin adopts from Docker\'s endpoints', () => {
  it('adopts every live address the book does not hold for that container, once', () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12', '10.9.0.13'], net);
    book.assign('mv', '10.9.0.10'); book.identify('mv', '10.9.0.10', 'c1', 'one'); // known, live
    book.assign('mv', '10.9.0.11'); // handed out, its container not seen yet
    book.assign('mv', '10.9.0.12'); book.identify('mv', '10.9.0.12', 'c3', 'three');
    book.dockerReleased('mv', '10.9.0.12'); // kept for c3, but Docker shows c4 on it
    const seen = [ep('10.9.0.10', 'c1'), ep('10.9.0.11', 'c2'), ep('10.9.0.12', 'c4'), ep('10.9.0.20', 'c5'),
      ep('10.9.0.20', 'c6'), ep('', 'c7'), ep('10.9.0.21', 'c8', 'other')];
    expect(planAdoption(seen, (m) => book.assigned(m))).toEqual([ep('10.9.0.11', 'c2'), ep('10.9.0.12', 'c4'), ep('10.9.0.20', 'c5'), ep('10.9.0.21', 'c8', 'other')]);
  });
});

describe('addresses Docker shows on several containers', () => {
  it('are named with their holders, once each', () => {
    expect(sharedAddresses([ep('10.9.0.20', 'c5'), ep('10.9.0.20', 'c6'), ep('10.9.0.21', 'c7'), ep('10.9.0.20', 'c5'), ep('10.9.0.21', 'c8', 'other')]))
      .toEqual(['mv 10.9.0.20: n-c5, n-c6']);
  });
});

describe('the plugin adopts what Docker has before answering', () => {
  /** A book whose journal was lost: the controller's pool is back, what was handed out is not. */
  const lostJournal = () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], net);
    return book;
  };

  it('a journal cut short: the address a running container holds is not handed out again, and the journal holds it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xnet-adopt-'));
    try {
      const path = join(dir, 'ipam-journal.json');
      writeFileSync(path, '{"version":1,"nets":{"mv":{"pool":["10.9');
      const book = new AddressBook(new FileJournal(path), () => {});
      book.setPool('mv', ['10.9.0.10', '10.9.0.11'], net);
      let answer!: (eps: SeenEndpoint[]) => void;
      const listed = new Promise<SeenEndpoint[]>((r) => { answer = r; });
      const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, dockerEndpoints: () => listed, waitMs: 2000 });
      void ipam.adopt();
      const request = ipam.requestAddress({ PoolID: 'mv' }); // arrives while Docker is being read
      await sleep(20);
      answer([ep('10.9.0.10', 'c1')]);
      expect(await request).toBe('10.9.0.11/24');
      expect(readdirSync(dir)).toContain('ipam-journal.json.bad');
      const journal = JSON.parse(readFileSync(path, 'utf8')) as { nets: Record<string, { assigned: Record<string, { container?: string; name?: string }> }> };
      expect(journal.nets.mv.assigned['10.9.0.10']).toMatchObject({ container: 'c1', name: 'n-c1' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an adopted address outside the node\'s pool is reported and never handed out, even once the pool holds it', async () => {
    const book = lostJournal();
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, dockerEndpoints: async () => [ep('10.9.0.77', 'c9')], waitMs: 50 });
    await ipam.adopt();
    expect(book.report('mv').assigned).toEqual([{ ip: '10.9.0.77', container: 'c9', name: 'n-c9' }]);
    expect(book.outsidePool('mv').map((a) => a.ip)).toEqual(['10.9.0.77']);
    await expect(ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.77' })).rejects.toThrow(/in use by container n-c9/);
    book.setPool('mv', ['10.9.0.77'], net); // the controller gives it to this node: backed now, still in use
    expect(book.outsidePool('mv')).toEqual([]);
    await expect(ipam.requestAddress({ PoolID: 'mv' })).rejects.toThrow(/no free address/);
  });

  it('Docker not answering: requests are refused, saying why, and the tries are bounded', async () => {
    const book = lostJournal();
    let calls = 0;
    const ipam = new NodeIpam({
      book, log, otherHolder: () => undefined, waitMs: 100,
      dockerEndpoints: async () => { calls++; throw new Error('connect ENOENT /var/run/docker.sock'); },
      adoptRetry: { attempts: 3, everyMs: 10 },
    });
    await ipam.adopt();
    expect(calls).toBe(3);
    await expect(ipam.requestAddress({ PoolID: 'mv' })).rejects.toThrow(/not yet read from Docker which addresses its containers on this node hold/);
    expect(book.report('mv').assigned).toEqual([]);
    expect(calls).toBe(6); // the request started another bounded run
    // Docker's API answers again (the agent's event stream connected): read again (the request joins that run)
    ipam.dockerAnswers(true);
    await expect(ipam.requestAddress({ PoolID: 'mv' })).rejects.toThrow(/not yet read/);
    expect(calls).toBe(9);
  });

  it('a run that gave up is tried again by the next request, not only when Docker\'s event stream reconnects', async () => {
    const book = lostJournal();
    let calls = 0;
    const ipam = new NodeIpam({
      book, log, otherHolder: () => undefined, waitMs: 500,
      dockerEndpoints: async () => { if (++calls <= 2) throw new Error('HTTP 500 inspect network'); return [ep('10.9.0.10', 'c1')]; },
      adoptRetry: { attempts: 2, everyMs: 10 },
    });
    await ipam.adopt();
    expect(calls).toBe(2); // the run gave up; the event stream stays connected, so nothing calls dockerAnswers
    expect(await ipam.requestAddress({ PoolID: 'mv' })).toBe('10.9.0.11/24');
    expect(calls).toBe(3);
    expect(book.report('mv').assigned.map((a) => a.ip).sort()).toEqual(['10.9.0.10', '10.9.0.11']);
  });

  it('an address Docker released while its endpoints were being read is not taken back by the older list', async () => {
    const book = lostJournal();
    book.assign('mv', '10.9.0.10'); book.identify('mv', '10.9.0.10', 'c1', 'web'); // the journal's part that survived
    let answer!: (eps: SeenEndpoint[]) => void;
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 2000,
      dockerEndpoints: () => new Promise<SeenEndpoint[]>((r) => { answer = r; }) });
    const run = ipam.adopt();
    await sleep(10);
    await ipam.releaseAddress('mv', '10.9.0.10'); // docker stop web, while Docker's list is on its way
    answer([{ mvn: 'mv', ip: '10.9.0.10', container: 'c1', name: 'web' }]); // listed before the stop
    await run;
    expect(book.isKept('mv', '10.9.0.10')).toBe(true); // still kept for web's restart, not live again
  });

  it('an Activate before the agent\'s event stream first connected, from a dockerd whose API answers, is no restore: requests wait for adoption', async () => {
    const book = lostJournal();
    let answer!: (eps: SeenEndpoint[]) => void;
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 2000,
      dockerEndpoints: () => new Promise<SeenEndpoint[]>((r) => { answer = r; }), dockerPing: async () => true });
    void ipam.adopt();
    await ipam.activate(); // the agent just started: dockerAnswers(true) not heard yet
    const request = ipam.requestAddress({ PoolID: 'mv' });
    await sleep(20);
    answer([ep('10.9.0.10', 'c1')]);
    expect(await request).toBe('10.9.0.11/24');
  });

  it('Docker answering while an Activate\'s ping is out is no restore, whatever the ping says', async () => {
    const book = lostJournal();
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 300,
      dockerEndpoints: () => new Promise<SeenEndpoint[]>(() => {}),
      dockerPing: async () => { await sleep(50); return false; } });
    const activated = ipam.activate();
    await sleep(10);
    ipam.dockerAnswers(true); // the agent's event stream connects while the ping is out
    await activated;
    await expect(ipam.requestAddress({ PoolID: 'mv' })).rejects.toThrow(/not yet read/); // waits for adoption, not served
  });

  it('a restoring dockerd (its API not answering yet) is answered without waiting: it released every address it held', async () => {
    const book = lostJournal();
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 100, dockerEndpoints: () => new Promise<SeenEndpoint[]>(() => {}), dockerPing: async () => false });
    void ipam.adopt();
    await ipam.activate();
    expect(await ipam.requestAddress({ PoolID: 'mv' })).toBe('10.9.0.10/24');
  });
});

describe('the plugin stopping while Docker is being read', () => {
  it('records nothing from a list that arrives after close()', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('mv', ['10.9.0.10'], net);
    let answer!: (eps: SeenEndpoint[]) => void;
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, dockerEndpoints: () => new Promise<SeenEndpoint[]>((r) => { answer = r; }) });
    const run = ipam.adopt();
    await sleep(10);
    await ipam.close();
    answer([ep('10.9.0.10', 'c1')]);
    await run;
    expect(book.report('mv').assigned).toEqual([]); // the agent that starts next reads the journal and Docker itself
  });
});

describe('what adoption says in the log', () => {
  /** Warnings and infos an adoption run logged, by message. */
  const logged = () => {
    const lines: Array<{ level: string; msg: string; meta?: { addresses?: string[] } }> = [];
    const add = (level: string) => (msg: string, meta?: object) => { lines.push({ level, msg, meta: meta as { addresses?: string[] } }); };
    return { lines, log: { level: 'info', error: add('error'), warn: add('warn'), info: add('info'), debug: add('debug'), log: () => undefined } as Logger };
  };

  it('a restarted dockerd (or an agent killed mid-request) is no lost journal: only what the journal had for no container restarted here is warned of', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12', '10.9.0.13', '10.9.0.14', '10.9.0.15', '10.9.0.16'], net);
    book.assign('mv', '10.9.0.16'); book.identify('mv', '10.9.0.16', 'c8', 'c8'); book.dockerReleased('mv', '10.9.0.16');
    book.lend('mv', '10.9.0.16'); // to a starting container not learnt yet when the agent stopped: c8 itself
    book.assign('mv', '10.9.0.10'); book.identify('mv', '10.9.0.10', 'c1', 'web');
    book.dockerReleased('mv', '10.9.0.10'); // dockerd restarting released it: kept for web
    for (const [ip, c] of [['10.9.0.14', 'c6'], ['10.9.0.15', 'c7']]) { book.assign('mv', ip); book.identify('mv', ip, c, c); book.dockerReleased('mv', ip); }
    book.assign('mv', '10.9.0.11'); // handed out; the agent died before it saw which container took it
    book.assign('mv', '10.9.0.12'); book.identify('mv', '10.9.0.12', 'c3', 'db');
    book.dockerReleased('mv', '10.9.0.12'); // kept for db, but Docker shows another container on it
    const { lines, log: spy } = logged();
    const adoption = new Adoption({ book, log: spy, list: async () => [
      { mvn: 'mv', ip: '10.9.0.10', container: 'c1', name: 'web' }, { mvn: 'mv', ip: '10.9.0.11', container: 'c2', name: 'api' },
      { mvn: 'mv', ip: '10.9.0.12', container: 'c4', name: 'other' }, { mvn: 'mv', ip: '10.9.0.13', container: 'c5', name: 'new' },
      { mvn: 'mv', ip: '10.9.0.14', container: 'c7', name: 'c7' }, { mvn: 'mv', ip: '10.9.0.15', container: 'c6', name: 'c6' }, // swapped in a restore
      { mvn: 'mv', ip: '10.9.0.16', container: 'c8', name: 'c8' }] });
    await adoption.run();
    const warned = lines.filter((l) => l.level === 'warn').flatMap((l) => l.meta?.addresses ?? []);
    expect(warned).toEqual(['mv 10.9.0.12 other', 'mv 10.9.0.13 new']);
    const told = lines.filter((l) => l.level === 'info').flatMap((l) => l.meta?.addresses ?? []);
    expect(told).toEqual(['mv 10.9.0.10 web', 'mv 10.9.0.11 api', 'mv 10.9.0.14 c7', 'mv 10.9.0.15 c6', 'mv 10.9.0.16 c8']);
    expect(book.report('mv').assigned.map((a) => `${a.ip} ${a.name}`)).toEqual(['10.9.0.10 web', '10.9.0.11 api', '10.9.0.12 other', '10.9.0.13 new', '10.9.0.14 c7', '10.9.0.15 c6', '10.9.0.16 c8']);
  });
});
