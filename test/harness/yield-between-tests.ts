// One macrotask after every test (vitest setupFiles). vitest's runner goes from one test to the
// next through promises alone, so a file of synchronous tests (the manifest limits: seconds of
// CPU each) never lets its worker's event loop reach I/O: vitest's own RPC answers wait unread
// while their 60 s timers run out, and a run whose every test passed ends with "Timeout calling
// onTaskUpdate" errors and exit 1 (a fresh-clone run on a slower 2-core machine, 2026-12-05:
// 87 of them, manifest-document-bounds.test.ts taking 78 s). Measured with four tests of 18 s of
// busy CPU in one file: one such error without this, none with it.
import { afterEach } from 'vitest';

afterEach(() => new Promise<void>((resolve) => { setImmediate(resolve); }));
