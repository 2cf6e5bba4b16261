// How many etcd requests an xctl command makes, for the tests that it reads many objects in a
// few requests rather than one each (a round trip per object over a slow link): every request
// goes through a TCP proxy that counts the gRPC calls opened.
import { expect } from 'vitest';
import { startTcpProxy } from './tcp-proxy.js';
import type { Kind } from '../../pkg/api/kinds.js';
import type { XctlLab, XctlRun } from './xctl-in-process.js';

/** xctl's answer to `args`, and the requests it made */
export async function xctlCounted(lab: XctlLab, args: string[]): Promise<{ r: XctlRun; requests: number }> {
  const proxy = await startTcpProxy(lab.etcd.endpoints[0]);
  try {
    return { r: await lab.xctl(args, { endpoints: proxy.endpoint }), requests: proxy.requests };
  } finally {
    await proxy.close();
  }
}

/** A manifest of `n` objects of `kind`, `doc(name)` each, named `prefix-00`...: applied, all there; their names and its path. */
export async function manyApplied(lab: XctlLab, n: number, kind: Kind, prefix: string, doc: (name: string) => string): Promise<{ names: string[]; f: string }> {
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
  const f = lab.file(`${prefix}.yaml`, names.map(doc).join('---\n'));
  expect((await lab.xctl(['apply', '-f', f])).code).toBe(0);
  for (const name of names) expect(await lab.store.get(kind, name), name).toBeDefined();
  return { names, f };
}
