// etcd refuses a request that raced a change of its auth store ("revision of auth store is
// old"). Adding a node's user while the daemons run must not fail their requests: every xnet
// client sends such a request again (pkg/etcd/client.ts). A raw etcd3 client beside it, doing
// the same work at the same time, shows the race really happened in this run.
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { callDeadlines, createEtcdClient } from '../../pkg/etcd/client.js';
import { addNodeAuth } from '../../pkg/auth/etcd-auth.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd({ auth: true }); }, 60_000);
afterAll(async () => { await etcd?.stop(); });

function rawClientAs(conn: { endpoints: string[]; cacert?: string; cert?: string; key?: string }): Etcd3 {
  return new Etcd3({
    hosts: conn.endpoints, defaultCallOptions: callDeadlines(),
    credentials: { rootCertificate: readFileSync(conn.cacert!), certChain: readFileSync(conn.cert!), privateKey: readFileSync(conn.key!) },
  });
}

/** Puts keys one after another until `done()`; counts the puts etcd refused, by message. */
async function putUntil(client: Etcd3, prefix: string, done: () => boolean): Promise<{ ok: number; refused: string[] }> {
  const out = { ok: 0, refused: [] as string[] };
  for (let i = 0; !done(); i++) {
    try { await client.put(`${prefix}${i}`).value('x'); out.ok++; } catch (e) { out.refused.push((e as Error).message); }
  }
  return out;
}

describe('a change of etcd\'s auth store while clients write', () => {
  it('fails no request of an xnet client; a raw client doing the same meets the refusal', async () => {
    const auth = etcd.auth!;
    const conn = auth.connection(auth.ids.controller);
    const xnet = createEtcdClient(conn);
    const raw = rawClientAs(conn);
    const root = createEtcdClient(auth.connection(auth.ids.root));
    let finished = false;
    try {
      const writers = [putUntil(xnet, '/xnet/registry/objects/nodes/x-', () => finished), putUntil(raw, '/xnet/registry/objects/nodes/r-', () => finished)];
      // each node added is several auth store changes (role, grants, user, role grant)
      for (let i = 0; i < 40; i++) await addNodeAuth(root, `churn-${i}`);
      finished = true;
      const [mine, theirs] = await Promise.all(writers);
      expect(theirs.refused.length, `raw client: ${theirs.ok} puts, none refused: the race did not happen in this run`).toBeGreaterThan(0);
      expect(theirs.refused[0]).toMatch(/revision of auth store is old/);
      expect(mine.refused).toEqual([]);
      expect(mine.ok).toBeGreaterThan(0);
    } finally {
      finished = true;
      xnet.close(); raw.close(); root.close();
    }
  }, 120_000);
});
