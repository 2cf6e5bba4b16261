// `xctl completion bash|zsh` as a shell uses it: the script parses (bash -n, zsh -n when zsh is
// installed), and sourced into a real bash it completes commands, flags, kinds and the names
// of objects stored in a real etcd (read through the hidden `xctl __complete`).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XCTL_BIN as BIN, useBuiltXctl } from './built-xctl.js';

const built = useBuiltXctl();
let binDir: string;
let script: string;

beforeAll(async () => {
  // the script calls `xctl` from PATH, as it would after a global install
  binDir = mkdtempSync(join(tmpdir(), 'xnet-completion-'));
  writeFileSync(join(binDir, 'xctl'), `#!/bin/sh\nexec node ${BIN} "$@"\n`);
  chmodSync(join(binDir, 'xctl'), 0o755);
  script = join(binDir, 'xctl.bash');
  const r = await execa('node', [BIN, 'completion', 'bash'], { reject: false });
  expect(r.exitCode).toBe(0);
  writeFileSync(script, r.stdout);
  const manifest = ['cn-a', 'cn-b'].map((n, i) => `apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata: {name: ${n}}\nspec: {cidr: 10.${80 + i}.0.0/16, hostPrefix: 24}\n`).join('---\n')
    + '---\napiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata: {name: compl-node}\nspec: {}\n';
  const applied = await execa('node', [BIN, 'apply', '-f', '-'], { input: manifest, reject: false, env: { XCTL_ENDPOINTS: built.etcd.endpoints.join(',') } });
  expect(applied.exitCode, applied.stderr).toBe(0);
});
afterAll(async () => {
  if (binDir) rmSync(binDir, { recursive: true, force: true });
});

/** What bash offers for the command line `line` (the cursor at its end). */
async function complete(line: string, env: Record<string, string> = {}): Promise<string[]> {
  const words = line.split(' ');
  const prog = `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _xctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await execa('bash', ['-c', prog], { reject: false, env: { PATH: `${binDir}:${process.env.PATH}`, XCTL_ENDPOINTS: '', ...env } });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/**
 * What bash offers for `line` and whether the script asked for no space after it (`compopt -o
 * nospace`): a function of that name stands in for the builtin, which works only while bash
 * itself is completing, and records what it was asked.
 */
async function completeWithOptions(line: string): Promise<{ offered: string[]; nospace: boolean }> {
  const words = line.split(' ');
  const prog = `source ${script}; asked=(); compopt() { asked+=("$*"); }; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _xctl; `
    + 'printf \'%s\\n\' "${COMPREPLY[@]}"; printf \'compopt %s\\n\' "${asked[@]}"';
  const r = await execa('bash', ['-c', prog], { reject: false, env: { PATH: `${binDir}:${process.env.PATH}`, XCTL_ENDPOINTS: '' } });
  expect(r.exitCode, r.stderr).toBe(0);
  const lines = r.stdout.split('\n').filter(Boolean);
  return { offered: lines.filter((l) => !l.startsWith('compopt ')).sort(), nospace: lines.includes('compopt -o nospace') };
}

describe('xctl completion', () => {
  it('prints a bash script that bash -n accepts, and a zsh script', async () => {
    expect((await execa('bash', ['-n', script], { reject: false })).exitCode).toBe(0);
    const zsh = await execa('node', [BIN, 'completion', 'zsh'], { reject: false });
    expect(zsh.exitCode).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef xctl/);
    expect(zsh.stdout).toContain('complete -F _xctl xctl');
    const hasZsh = (await execa('sh', ['-c', 'command -v zsh'], { reject: false })).exitCode === 0;
    if (hasZsh) expect((await execa('zsh', ['-n', '-c', zsh.stdout], { reject: false })).exitCode).toBe(0);
  });

  it('refuses an unknown shell with exit 2', async () => {
    const r = await execa('node', [BIN, 'completion', 'fish'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown shell "fish"/);
  });

  it('completes commands, subcommands and flags', async () => {
    expect(await complete('xctl de')).toEqual(['delete', 'describe']);
    expect(await complete('xctl lab ')).toEqual(expect.arrayContaining(['down', 'exec', 'status', 'up']));
    expect(await complete('xctl get --w')).toEqual(['--watch']);
    expect(await complete('xctl get -o ')).toEqual(expect.arrayContaining(['json', 'wide', 'yaml']));
    expect(await complete('xctl completion ')).toEqual(['bash', 'zsh']);
    // --dry-run's value is optional (--dry-run=server): the word after it is the next flag
    expect(await complete('xctl apply --dry-run -')).toEqual(expect.arrayContaining(['--filename', '-f']));
  });

  it('completes kinds, then the names stored in etcd (endpoints from the command line)', async () => {
    expect(await complete('xctl get clustern')).toEqual(['clusternetwork', 'clusternetworks']);
    const endpoints = built.etcd.endpoints.join(',');
    expect(await complete(`xctl --endpoints ${endpoints} get cn `)).toEqual(['cn-a', 'cn-b']);
    expect(await complete(`xctl --endpoints ${endpoints} describe cn cn-b`)).toEqual(['cn-b']);
    expect(await complete(`xctl --endpoints ${endpoints} delete no `)).toEqual(['compl-node']);
    expect(await complete(`xctl --endpoints ${endpoints} label no `)).toEqual(['compl-node']);
  });

  it('completes `get events` and its --for KIND/ prefixes, and offers events only after get', async () => {
    expect(await complete('xctl get ev')).toEqual(['events']);
    expect(await complete('xctl describe ev')).toEqual([]);
    expect(await complete('xctl get events --for containern')).toEqual(['containernic/']);
    expect(await complete('xctl wait cn cn-a --for ')).toEqual(['condition=Ready', 'delete', 'jsonpath=']);
  });

  it('offers the output formats of the command being typed after -o', async () => {
    expect(await complete('xctl get nic -o ')).toEqual(['custom-columns-file=', 'custom-columns=', 'go-template-file=', 'go-template=', 'json', 'jsonpath-file=', 'jsonpath=', 'name', 'wide', 'yaml']);
    expect(await complete('xctl get -o n')).toEqual(['name']);
    // the template follows in the same word: kubectl's -o jsonpath='{...}'
    expect(await complete('xctl get -o jsonpath=')).toEqual(['jsonpath=']);
    expect(await complete('xctl topology -o ')).toEqual(['dot', 'svg', 'text']);
    expect(await complete('xctl lab status --output ')).toEqual(['json']);
    expect(await complete('xctl get events -o ')).toEqual(['custom-columns-file=', 'custom-columns=', 'go-template-file=', 'go-template=', 'json', 'jsonpath-file=', 'jsonpath=', 'name', 'wide', 'yaml']);
    expect(await complete('xctl get ev --output y')).toEqual(['yaml']);
  });

  it('leaves no space after a lone jsonpath=, go-template=, custom-columns= or --for jsonpath=: the template follows in the word', async () => {
    expect(await completeWithOptions('xctl get nic -o jsonpath')).toEqual({ offered: ['jsonpath-file=', 'jsonpath='], nospace: false });
    expect(await completeWithOptions('xctl get nic -o jsonpath=')).toEqual({ offered: ['jsonpath='], nospace: true });
    expect(await completeWithOptions('xctl get nic -o custom')).toEqual({ offered: ['custom-columns-file=', 'custom-columns='], nospace: false });
    expect(await completeWithOptions('xctl get nic -o custom-columns-f')).toEqual({ offered: ['custom-columns-file='], nospace: true });
    expect(await completeWithOptions('xctl get events -o jsonpath-')).toEqual({ offered: ['jsonpath-file='], nospace: true });
    expect(await completeWithOptions('xctl get nic -o go')).toEqual({ offered: ['go-template-file=', 'go-template='], nospace: false });
    expect(await completeWithOptions('xctl get nic -o go-template=')).toEqual({ offered: ['go-template='], nospace: true });
    expect(await completeWithOptions('xctl get events -o go-template-')).toEqual({ offered: ['go-template-file='], nospace: true });
    expect(await completeWithOptions('xctl wait cn cn-a --for js')).toEqual({ offered: ['jsonpath='], nospace: true });
    // a whole word is followed by a space, as any completed word
    expect(await completeWithOptions('xctl get nic -o wi')).toEqual({ offered: ['wide'], nospace: false });
    expect(await completeWithOptions('xctl wait cn cn-a --for cond')).toEqual({ offered: ['condition=Ready'], nospace: false });
  });

  it('completes names from XCTL_ENDPOINTS, and offers nothing (no error text) when etcd is unreachable', async () => {
    expect(await complete('xctl get nodes ', { XCTL_ENDPOINTS: built.etcd.endpoints.join(',') })).toEqual(['compl-node']);
    expect(await complete('xctl get nodes ', { XCTL_ENDPOINTS: 'http://127.0.0.1:1' })).toEqual([]);
  });
});
