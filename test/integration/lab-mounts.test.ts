// The lab's mount table reader (pkg/lab/mounts.ts: `xctl lab down` and `lab up`'s leftover check
// use it) against the kernel's own table: a tmpfs mounted under a directory whose name has a
// space and a backslash is found, unmounted, and no longer found; the machine's other mounts
// are not listed.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mountsUnder, mountTargets, unmountUnder } from '../../pkg/lab/mounts.js';
import { run } from '../../pkg/lab/run.js';

describe('mounts under a lab directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xnet-mounts-'));
  const target = join(dir, 'data root\\x', 'overlay');
  afterAll(async () => {
    await run(['umount', '-l', target], { reject: false });
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads mount points as findmnt shows them, escapes undone', () => {
    const table = '36 35 98:0 / /mnt/a\\040b rw - ext4 /dev/x rw\n37 35 0:5 / /tmp/l\\134ab rw - tmpfs tmpfs rw\n';
    expect(mountTargets(table)).toEqual(['/mnt/a b', '/tmp/l\\ab']);
  });

  it('finds a real mount under the directory, unmounts it, and finds nothing after', async () => {
    mkdirSync(target, { recursive: true });
    expect(await mountsUnder(dir)).toEqual([]);
    await run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'xnet-test', target]);
    await run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'xnet-test', target]);
    expect(await mountsUnder(dir)).toEqual([target, target]);
    const findmnt = (await run(['findmnt', '-rn', '-o', 'TARGET'])).stdout.split('\n').filter((t) => t.startsWith(dir));
    expect(findmnt).toHaveLength(2);
    expect(await mountsUnder(`${dir}-other`)).toEqual([]);
    expect(await unmountUnder(dir)).toEqual([]);
    expect(await mountsUnder(dir)).toEqual([]);
  });
});
