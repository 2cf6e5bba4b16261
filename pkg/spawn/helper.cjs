// @ts-check
// The spawn helper: a small Node process that starts programs for a larger one (pkg/spawn/spawn.ts).
// Node starts a program with fork() then exec(), and fork() copies the page tables of the whole
// process: from a 250 MB process a spawn costs about twice the CPU of one from this helper's
// ~50 MB (docs/contributing.md has the figures). Plain CommonJS, no dependencies, so that the
// same file runs from the sources and from dist/ (the build copies it).
//
// Requests and answers are JSON messages on the IPC channel:
//   { id, file, args, input?, env, cwd, timeoutMs, killSignal, maxBuffer }
//   { id, stdout, stderr, exitCode, signal, timedOut, errorCode?, errorMessage? }
// When the parent goes away (the channel closes) every program still running is killed and the
// helper exits: nothing it started outlives the process that asked for it.
'use strict';
const { spawn } = require('node:child_process');

/** the programs running now, so that a closed channel can end them */
const running = new Set();

/** After a timeout's own signal, SIGKILL if the program is still there (as execa does). */
const FORCE_KILL_AFTER_MS = 5000;

/**
 * @param {{ id: number, file: string, args: string[], input?: string, env: Record<string, string>, cwd: string,
 *   timeoutMs: number, killSignal: NodeJS.Signals, maxBuffer: number }} req
 */
function start(req) {
  /** @type {{ stdout: Buffer[], stderr: Buffer[], bytes: number }} */
  const out = { stdout: [], stderr: [], bytes: 0 };
  let timedOut = false;
  let overflow = false;
  let done = false;
  /** @param {Record<string, unknown>} answer */
  const reply = (answer) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    clearTimeout(forceTimer);
    running.delete(child);
    if (process.connected) process.send?.({ id: req.id, ...answer });
  };
  const child = spawn(req.file, req.args, { env: req.env, cwd: req.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  /** @type {NodeJS.Timeout | undefined} */
  let forceTimer;
  const kill = (/** @type {NodeJS.Signals} */ signal) => {
    child.kill(signal);
    if (signal !== 'SIGKILL') forceTimer = setTimeout(() => child.kill('SIGKILL'), FORCE_KILL_AFTER_MS);
  };
  const timer = setTimeout(() => { timedOut = true; kill(req.killSignal); }, req.timeoutMs);
  for (const name of /** @type {const} */ (['stdout', 'stderr'])) {
    child[name].on('data', (/** @type {Buffer} */ chunk) => {
      out.bytes += chunk.length;
      if (out.bytes > req.maxBuffer) { if (!overflow) { overflow = true; kill('SIGKILL'); } return; }
      out[name].push(chunk);
    });
  }
  // a program that exits without reading its input closes the pipe: not an error of the program
  child.stdin.on('error', () => {});
  child.stdin.end(req.input ?? '');
  child.on('error', (/** @type {NodeJS.ErrnoException} */ e) => reply({ exitCode: null, signal: null, timedOut, stdout: '', stderr: '', errorCode: e.code ?? 'ESPAWN', errorMessage: e.message }));
  child.on('close', (/** @type {number | null} */ exitCode, /** @type {string | null} */ signal) => reply({
    exitCode, signal, timedOut,
    stdout: Buffer.concat(out.stdout).toString('utf8'),
    stderr: Buffer.concat(out.stderr).toString('utf8'),
    ...(overflow ? { errorCode: 'EMAXBUFFER', errorMessage: `output passed ${req.maxBuffer} bytes` } : {}),
  }));
}

process.on('message', (/** @type {any} */ req) => {
  try {
    start(req);
  } catch (e) {
    const err = /** @type {NodeJS.ErrnoException} */ (e);
    process.send?.({ id: req?.id, exitCode: null, signal: null, timedOut: false, stdout: '', stderr: '', errorCode: err.code ?? 'ESPAWN', errorMessage: err.message });
  }
});
process.on('disconnect', () => {
  for (const child of running) child.kill('SIGKILL');
  process.exit(0);
});
