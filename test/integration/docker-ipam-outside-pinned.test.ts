// A container pinned with `docker run --ip X`, whose X an ipRange shrink then left outside the
// range, is stopped and started again. Found in review: the node's IPAM plugin refused X
// (outside the range) although X was still claimed for this node (status.nodes[].outsideRange)
// and kept for this very container, so `docker start` failed where Docker's own IPAM would have
// let it start. Real dockerd, the real controller and agent (setup as docker-ipam-outside-note).
import { describe, expect, it } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { BUSYBOX_IMAGE, hostDocker } from '../../pkg/lab/index.js';
import { docker, eventually, labXctl, obj, runContainer, useMacvlanIpamLab } from './agent-harness.js';

const NET = 'shrinkpin';
const SPEC = { subnet: '192.168.215.0/24', gateway: '192.168.215.1', ipRange: '192.168.215.128/25' };
const X = '192.168.215.130';
const env = useMacvlanIpamLab(1, NET, SPEC);

describe('a container pinned (--ip) to an address an ipRange edit left out', () => {
  it('starts again after docker stop on the same address, and xctl ipam check stays clean', async () => {
    const h = env.lab.hosts[0];
    const c = 'pinned-kept';
    const ipOf = () => docker(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', c]);
    await runContainer(h, c, ['--net', NET, '--ip', X]);
    expect(await ipOf()).toBe(X);
    await env.lab.store.applyAll([obj('MacvlanNet', NET, { ...SPEC, ipRange: '192.168.215.240/28' })]);
    const part = async () => ((await env.lab.store.get('MacvlanNet', NET)) as MacvlanNet | undefined)?.status?.nodes?.[0] as { outsideRange?: string[] } | undefined;
    // the edit is applied: X is kept for the node outside the range
    await eventually(async () => (await part())?.outsideRange?.includes(X) || undefined, `${X} in the node's outsideRange`, 30_000);
    await docker(h, ['stop', '-t', '0', c]);
    const start = await hostDocker(h, ['start', c]);
    expect(start.exitCode, `docker start ${c}: ${start.stderr}`).toBe(0);
    expect(await ipOf()).toBe(X);
    expect((await part())?.outsideRange).toContain(X);
    const r = await eventually(async () => { const x = await labXctl(env.lab, ['ipam', 'check']); return x.code === 0 ? x : undefined; }, 'ipam check clean', 15_000)
      .catch(async () => labXctl(env.lab, ['ipam', 'check']));
    expect(r.code, r.out + r.err).toBe(0);
  });

  // never otherwise: X kept for no container here (the container is gone), outside the range
  it('refuses that address to a new container once its container is removed', async () => {
    const h = env.lab.hosts[0];
    await docker(h, ['rm', '-f', 'pinned-kept']);
    const part = async () => ((await env.lab.store.get('MacvlanNet', NET)) as MacvlanNet | undefined)?.status?.nodes?.[0] as { outsideRange?: string[] } | undefined;
    await eventually(async () => !(await part())?.outsideRange?.includes(X) || undefined, `the claim on ${X} gone`, 30_000);
    const r = await hostDocker(h, ['run', '-d', '--name', 'pinned-again', '--net', NET, '--ip', X, BUSYBOX_IMAGE, 'sleep', '100000']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`${X} is outside MacvlanNet "${NET}"'s ipRange`);
  });
});
