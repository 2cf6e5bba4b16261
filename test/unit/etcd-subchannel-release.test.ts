// pkg/etcd/subchannel-release.ts on grpc-js's own Subchannel, with a connector that counts its
// dials and never reaches a server: a subchannel let go of during its reconnect backoff must
// not dial again when the backoff ends (grpc-js 1.14 did, and connected for good when the
// server was back).
import { describe, expect, it } from 'vitest';
import { credentials } from '@grpc/grpc-js';
import { Subchannel } from '@grpc/grpc-js/build/src/subchannel.js';
import { parseUri } from '@grpc/grpc-js/build/src/uri-parser.js';
import type { SubchannelConnector } from '@grpc/grpc-js/build/src/transport.js';
import { releaseUnusedSubchannels, subchannelReleaseInstalled } from '../../pkg/etcd/subchannel-release.js';

const IDLE = 0, TRANSIENT_FAILURE = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function refusedSubchannel() {
  const connector = { dials: 0, connect() { this.dials++; return Promise.reject(new Error('ECONNREFUSED')); }, shutdown() {} };
  const sub = new Subchannel(parseUri('127.0.0.1:1')!, { host: '127.0.0.1', port: 1 }, { 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 50 }, credentials.createInsecure(), connector as unknown as SubchannelConnector);
  return { sub, connector };
}

describe('releaseUnusedSubchannels', () => {
  releaseUnusedSubchannels();

  it('recognises the grpc-js it patches (a grpc-js of another shape would be left unpatched)', () => {
    expect(subchannelReleaseInstalled()).toBe(true);
  });

  it('a subchannel let go of in its backoff, after a channel asked it to connect, does not dial again', async () => {
    const { sub, connector } = refusedSubchannel();
    sub.ref();
    sub.startConnecting();
    await sleep(10);
    expect(sub.getConnectivityState()).toBe(TRANSIENT_FAILURE);
    sub.startConnecting(); // a channel's pick asks again: grpc-js dials when the backoff ends
    sub.unref();
    const dials = connector.dials;
    await sleep(300);
    expect(connector.dials).toBe(dials);
    expect(sub.getConnectivityState()).toBe(IDLE);
  });

  it('a subchannel still held goes on reconnecting', async () => {
    const { sub, connector } = refusedSubchannel();
    sub.ref();
    sub.ref();
    sub.startConnecting();
    await sleep(10);
    sub.startConnecting();
    sub.unref();
    const dials = connector.dials;
    await sleep(300);
    expect(connector.dials).toBeGreaterThan(dials);
    sub.unref();
  });
});
