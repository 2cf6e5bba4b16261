import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const TESTS = ['test/unit', 'test/integration', 'test/e2e'];

/**
 * Test files that replace a module (`vi.mock`): they need a module registry of their own. Read
 * from the files themselves, so a new one cannot land in the shared project by mistake.
 */
export function filesThatMockModules(root = dirname(fileURLToPath(import.meta.url))): string[] {
  const mocks = /\bvi\.(?:do)?[mM]ock\(/;
  return TESTS.flatMap((dir) => (readdirSync(join(root, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `${dir}/${f}`)
    .filter((f) => mocks.test(readFileSync(join(root, f), 'utf8'))));
}

const isolated = filesThatMockModules();

export default defineConfig({
  test: {
    testTimeout: 60_000,
    // lets vitest's own RPC answers in between synchronous tests (the file says why)
    setupFiles: ['test/harness/yield-between-tests.ts'],
    hookTimeout: 120_000,
    pool: 'forks',
    // Files share their worker's modules (isolate: false): the suite is CPU-bound on two cores,
    // and importing etcd3 (gRPC, protobufjs), zod and winston once per file cost about 290 CPU
    // seconds of vitest's "collect" per run (docs/contributing.md). vitest still restores every
    // spy after each file. minForks = maxForks: tinypool ends a fork it finds idle while vitest
    // still holds it, and the run dies with "Terminating worker thread" (seen with minForks 1).
    poolOptions: { forks: { maxForks: 3, minForks: 3, isolate: false } },
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: isolated } },
      // a fresh module registry before each of these files (vitest resets it in the same worker)
      { extends: true, test: { name: 'isolated', include: isolated.length ? isolated : ['no-such-file'], poolOptions: { forks: { isolate: true } } } },
    ],
  },
});
