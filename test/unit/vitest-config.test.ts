// Test files share their worker's modules; one that replaces a module with vi.mock would leave
// its fake behind for the next file, so the config runs those in a project of their own. It
// finds them by reading the files: this checks that it finds every spelling and nothing else.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { filesThatMockModules } from '../../vitest.config.js';

const root = mkdtempSync(join(tmpdir(), 'xnet-vitest-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// spelt in pieces, or this file would count as one that mocks
const vi_ = 'vi.';

function file(path: string, text: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

describe('the files that run with a module registry of their own', () => {
  test('are those that call vi.mock or vi.doMock, in any test directory or one below it', () => {
    for (const d of ['test/unit', 'test/integration', 'test/e2e']) mkdirSync(join(root, d), { recursive: true });
    file('test/unit/mocks-fs.test.ts', `${vi_}mock('node:fs', async () => ({}));\n`);
    file('test/integration/later.test.ts', `const m = ${vi_}doMock('../x.js');\n`);
    file('test/e2e/spies.test.ts', "vi.spyOn(log, 'error'); vi.fn();\n");
    file('test/unit/mentions.test.ts', '// mocking nothing: vimock, vi.mocked(x)\n');
    file('test/unit/helper.ts', `${vi_}mock('node:fs');\n`);
    file('test/unit/deeper/nested.test.ts', `${vi_}mock('node:os');\n`);
    expect(filesThatMockModules(root).sort()).toEqual(['test/integration/later.test.ts', 'test/unit/deeper/nested.test.ts', 'test/unit/mocks-fs.test.ts']);
  });

  test('include the suite\'s own mocking files', () => {
    expect(filesThatMockModules()).toContain('test/unit/docker-ipam-journal.test.ts');
  });
});
