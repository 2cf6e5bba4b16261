// xctl run in-process (runXctl, the code the program runs) against a real etcd that the test
// file's hooks start and stop, with a temporary directory for manifests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from './etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { runXctl } from '../../pkg/cli/program.js';
import type { ExecResult } from '../../pkg/lab/exec.js';

export interface XctlRun { code: number; out: string; err: string }
export interface XctlOptions {
  stdin?: string; signal?: AbortSignal; endpoints?: string; onOut?: (all: string) => void; onErr?: (all: string) => void;
  /** stderr is a terminal: progress lines are drawn */
  tty?: boolean;
}

/** What a test file gets: set once its beforeAll ran. */
export interface XctlLab {
  etcd: TestEtcd;
  /** the client `store` writes through (the etcd's root) */
  client: Etcd3;
  store: EtcdStore;
  dir: string;
  xctl(args: string[], opts?: XctlOptions): Promise<XctlRun>;
  /** writes `text` to `name` in the directory; returns its path */
  file(name: string, text: string): string;
}

/** Registers the hooks of the calling test file (an etcd, a directory named after `tag`) and returns the lab they fill. */
export function xctlInProcess(tag: string): XctlLab {
  const lab = {
    async xctl(args: string[], opts: XctlOptions = {}): Promise<XctlRun> {
      const r = { code: -1, out: '', err: '' };
      r.code = await runXctl(args, {
        out: (t) => { r.out += t; opts.onOut?.(r.out); },
        err: (t) => { r.err += t; opts.onErr?.(r.err); },
        stdin: async () => opts.stdin ?? '',
        env: { XCTL_ENDPOINTS: opts.endpoints ?? lab.etcd.endpoints.join(',') },
        signal: opts.signal,
        errIsTTY: !!opts.tty,
      });
      return r;
    },
    file(name: string, text: string): string {
      const p = join(lab.dir, name);
      writeFileSync(p, text);
      return p;
    },
  } as XctlLab;
  beforeAll(async () => {
    lab.etcd = await startEtcd();
    lab.client = lab.etcd.client();
    lab.store = createEtcdStore(lab.client);
    lab.dir = mkdtempSync(join(tmpdir(), `${tag}-`));
  });
  afterAll(async () => {
    await lab.etcd?.stop();
    if (lab.dir) rmSync(lab.dir, { recursive: true, force: true });
  });
  return lab;
}

export interface XctlCallOptions { input?: string; timeoutMs?: number; env?: Record<string, string> }

/**
 * runXctl in this process, as a spawned xctl would run with `argv`, stdin `input` and only `env`
 * (each spawned xctl costs about a CPU second of module loading: docs/contributing.md); a call
 * still running after timeoutMs (default 60 s) is aborted as Ctrl-C would abort it. Output
 * without its last newline, as execa gives it.
 */
export async function xctlInTest(argv: string[], o: XctlCallOptions = {}): Promise<ExecResult> {
  const r: ExecResult = { stdout: '', stderr: '', exitCode: -1 };
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), o.timeoutMs ?? 60_000);
  try {
    r.exitCode = await runXctl(argv, {
      out: (t) => { r.stdout += t; }, err: (t) => { r.stderr += t; },
      stdin: async () => o.input ?? '', env: o.env ?? {}, signal: ac.signal,
    });
  } finally {
    clearTimeout(timer);
  }
  // as execa (pkg/lab/run.ts) gives a spawned program's output
  const strip = (t: string) => t.replace(/\r?\n$/, '');
  return { ...r, stdout: strip(r.stdout), stderr: strip(r.stderr) };
}

/**
 * xctl in-process as the admin (xnet-admin's TLS certificate) against an etcd started with
 * `auth: true`: what a user with the admin's identity runs.
 */
export async function xctlAsAdmin(etcd: TestEtcd, ...args: string[]): Promise<XctlRun> {
  const { endpoints, cacert, cert, key } = etcd.auth!.connection(etcd.auth!.ids.admin);
  const r = { code: -1, out: '', err: '' };
  const tls = ['--endpoints', endpoints.join(','), '--cacert', cacert!, '--cert', cert!, '--key', key!];
  r.code = await runXctl([...tls, ...args], { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '', env: {} });
  return r;
}
