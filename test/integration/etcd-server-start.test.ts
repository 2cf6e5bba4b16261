// Starting etcd when its binary is missing fails at once with an error that says what to do,
// instead of an uncaught spawn error and a wait for the whole health deadline; a port taken
// between picking it and etcd's bind (CI saw it once under the parallel suite) means new ports.
import { describe, it, expect } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { clusterIdentities, connectionAs, loopbackServerTls } from '../../pkg/auth/bootstrap.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { freePort, startEtcdCluster, startEtcdServer } from '../../pkg/etcd/server.js';

describe('starting etcd', () => {
  it('without its binary: a clear error, not a wait for the health deadline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xnet-etcd-missing-'));
    try {
      const missing = /cannot run .*no-such-etcd: .*ENOENT.*scripts\/setup\.sh installs it/;
      await expect(startEtcdServer({ dataDir: dir, binary: join(dir, 'no-such-etcd') })).rejects.toThrow(missing);
      // a cluster member, which does not wait to be healthy on its own, says so as well
      const member = startEtcdServer({ dataDir: dir, name: 'm1', binary: join(dir, 'no-such-etcd'), initialCluster: 'm1=http://127.0.0.1:1' });
      await expect(member).rejects.toThrow(missing);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A loopback port held by a listener that hangs up at once (no health wait on it). */
async function holdPort(): Promise<{ taken: Server; takenPort: number }> {
  const taken = createServer((s) => s.destroy());
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  return { taken, takenPort: (taken.address() as AddressInfo).port };
}

interface TakenPortRun {
  dir: string;
  takenPort: number;
  /** the picker under test: the taken port for the picks `takenAt` names, else a free one */
  pickPort: () => Promise<number>;
  /** how many ports were picked so far */
  picks: () => number;
}

/** Runs `body` with a port held by another process, a temporary data dir and a counting picker; cleans up after. */
async function withTakenPort(takenAt: (pick: number) => boolean, body: (run: TakenPortRun) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'xnet-etcd-port-taken-'));
  const { taken, takenPort } = await holdPort();
  let picks = 0;
  const pickPort = async () => (takenAt(++picks) ? takenPort : freePort());
  try {
    await body({ dir, takenPort, pickPort, picks: () => picks });
  } finally {
    taken.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A put through `endpoints` reads back: the etcd there serves. */
async function expectServes(endpoints: string[], key: string): Promise<void> {
  const c = new Etcd3({ hosts: endpoints });
  try {
    await c.put(key).value(key);
    expect(await c.get(key).string()).toBe(key);
  } finally {
    c.close();
  }
}

describe('starting etcd on ports picked for it', () => {
  // another process (here: this test) binds the first port picked, as a parallel test's
  // outgoing connection did in CI between picking the port and etcd's bind
  it('picks other ports and starts when a picked port was taken before etcd could bind it', () => withTakenPort((n) => n === 1, async (run) => {
    const server = await startEtcdServer({ dataDir: run.dir, pickPort: run.pickPort });
    try {
      expect(run.picks()).toBeGreaterThan(2); // the taken pick, the peer's, then a new pair
      expect(server.clientPort).not.toBe(run.takenPort);
      await expectServes(server.endpoints, 'k');
    } finally {
      await server.stop();
    }
  }));

  // every client port picked is taken; the peer ports are free
  it('gives up after a bounded number of attempts, naming the port in use', () => withTakenPort((n) => n % 2 === 1, async (run) => {
    // a start that wrongly succeeds is stopped, so the failing test leaves no etcd behind
    const started = startEtcdServer({ dataDir: run.dir, pickPort: run.pickPort }).then(async (s) => { await s.stop(); return s; });
    await expect(started).rejects.toThrow(new RegExp(`address already in use.*${run.takenPort}|${run.takenPort}.*address already in use`));
    expect(run.picks()).toBe(10); // five attempts, a client and a peer port each
  }));
});

describe('starting etcd on a port another etcd holds', () => {
  it('is not fooled by the other etcd answering there: it starts its own on other ports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xnet-etcd-port-taken-'));
    const other = await startEtcdServer({ dataDir: join(dir, 'other'), name: 'other' });
    let picks = 0;
    const pickPort = async () => (++picks === 1 ? other.clientPort : freePort());
    try {
      const server = await startEtcdServer({ dataDir: join(dir, 'mine'), pickPort });
      try {
        expect(server.clientPort).not.toBe(other.clientPort);
        const mine = new Etcd3({ hosts: server.endpoints });
        const theirs = new Etcd3({ hosts: other.endpoints });
        await mine.put('whose').value('mine');
        expect(await theirs.get('whose').string()).toBeNull();
        mine.close();
        theirs.close();
      } finally {
        await server.stop();
      }
    } finally {
      await other.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('starting a three-member etcd cluster on ports picked for it', () => {
  // the last member's peer port is the taken one: two members would reach quorum without it
  it('starts all three members on new ports when a picked port was taken', () => withTakenPort((n) => n === 6, async (run) => {
    const members = await startEtcdCluster(3, run.dir, { pickPort: run.pickPort });
    try {
      expect(run.picks()).toBeGreaterThanOrEqual(12); // the failed cluster's six picks, then six new
      expect(members.map((m) => m.peerPort)).not.toContain(run.takenPort);
      for (const m of members) await expectServes(m.endpoints, `k-${m.name}`);
    } finally {
      await Promise.all(members.map((m) => m.stop()));
    }
  }));
});

describe('a three-member etcd cluster serving TLS (the chaos lab\'s, the harness\'s with auth)', () => {
  it('serves https on each member, waits for each through TLS, and logs where it was told', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xnet-etcd-tls-cluster-'));
    const ids = await clusterIdentities(join(dir, 'pki'));
    const spawned: number[] = [];
    const members = await startEtcdCluster(3, join(dir, 'etcd'), {
      tls: await loopbackServerTls(ids), logFile: (name) => join(dir, `etcd-${name}.log`), clusterToken: 'tls-cluster', onSpawn: (m) => spawned.push(m.pid),
    });
    try {
      // each process was announced as it started (the chaos lab records it before the health waits)
      expect(spawned.sort()).toEqual(members.map((m) => m.pid).sort());
      for (const m of members) {
        expect(m.endpoints[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const c = createEtcdClient(connectionAs(m.endpoints, ids.ca.caCert, ids.root));
        try {
          await c.put(`k-${m.name}`).value(m.name);
          expect(await c.get(`k-${m.name}`).string()).toBe(m.name);
        } finally { c.close(); }
        expect(readFileSync(join(dir, `etcd-${m.name}.log`), 'utf8')).toContain('tls-cluster');
      }
    } finally {
      await Promise.all(members.map((m) => m.stop()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
