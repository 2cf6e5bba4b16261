// @ts-check
// Runs one program to its end (runProgram), for pkg/spawn/spawn.ts: in the calling process, or,
// run as a program itself, as the spawn helper, a small Node process that starts programs for a
// larger one. Node starts a program with fork() then exec(), and fork() copies the page tables of
// the whole process: from a 250 MB process a spawn costs about twice the CPU of one from this
// helper's ~50 MB (docs/contributing.md has the figures). Plain CommonJS, no dependencies, so that
// the same file runs from the sources and from dist/ (the build compiles it as it is).
//
// As the helper, requests and answers are JSON messages on the IPC channel:
//   { id, file, args, input?, env, cwd, timeoutMs, killSignal, maxBuffer }
//   { id, stdout, stderr, exitCode, signal, timedOut, errorCode?, errorMessage? }
// When the parent goes away (the channel closes) or ends it (SIGTERM), every program still running
// is killed and the helper exits: nothing it started outlives the process that asked for it.
'use strict';
const { spawn } = require('node:child_process');

/** the programs running now, so that a closed channel can end them */
const running = new Set();

/** After a timeout's own signal, SIGKILL if the program is still there (as execa does). */
const FORCE_KILL_AFTER_MS = 5000;

/**
 * Once the program has exited, how long its output may still come before its pipes are closed
 * and the call answered: a child of it that outlives it holding its stdout or stderr (a modprobe
 * started by iptables, hanging) would otherwise keep the pipes open, and the call unanswered,
 * for as long as that child lives; also after the program was killed at its timeout.
 */
const OUTPUT_AFTER_EXIT_MS = 1000;

/**
 * @typedef {{ file: string, args: string[], input?: string, env: Record<string, string | undefined>, cwd: string,
 *   timeoutMs: number, killSignal: NodeJS.Signals, maxBuffer: number }} ProgramRequest
 * @typedef {{ stdout: string, stderr: string, exitCode: number | null, signal: string | null, timedOut: boolean,
 *   errorCode?: string, errorMessage?: string }} ProgramResult
 */

/**
 * Starts the program and calls `done` once with how it ended (never throws for a program that
 * cannot start: that is errorCode ENOENT, EACCES...).
 * @param {ProgramRequest} req
 * @param {(r: ProgramResult) => void} done
 */
function runProgram(req, done) {
  /** @type {{ stdout: Buffer[], stderr: Buffer[], bytes: number }} */
  const out = { stdout: [], stderr: [], bytes: 0 };
  let timedOut = false;
  let overflow = false;
  let ended = false;
  let stopWaiting = () => {};
  /** @param {ProgramResult} answer */
  const reply = (answer) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    clearTimeout(forceTimer);
    stopWaiting();
    running.delete(child);
    done(answer);
  };
  /** @type {import('node:child_process').ChildProcessWithoutNullStreams} */
  let child;
  try {
    child = spawn(req.file, req.args, { env: req.env, cwd: req.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = /** @type {NodeJS.ErrnoException} */ (e);
    done({ exitCode: null, signal: null, timedOut: false, stdout: '', stderr: '', errorCode: err.code ?? 'ESPAWN', errorMessage: err.message });
    return;
  }
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
  /** @param {number | null} exitCode @param {string | null} signal */
  const answerEnded = (exitCode, signal) => reply({
    exitCode, signal, timedOut,
    stdout: Buffer.concat(out.stdout).toString('utf8'),
    stderr: Buffer.concat(out.stderr).toString('utf8'),
    ...(overflow ? { errorCode: 'EMAXBUFFER', errorMessage: `output passed ${req.maxBuffer} bytes` } : {}),
  });
  stopWaiting = whenEnded(child, answerEnded);
}

/**
 * Calls `ended` with how the program ended once its output is closed, or OUTPUT_AFTER_EXIT_MS
 * after it exited with its pipes still held open by a child of it: they are closed then, and
 * the output so far is its output. Returns what stops the wait (the call answered otherwise).
 * @param {import('node:child_process').ChildProcessWithoutNullStreams} child
 * @param {(exitCode: number | null, signal: string | null) => void} ended
 */
function whenEnded(child, ended) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  child.on('close', ended);
  child.on('exit', (exitCode, signal) => {
    timer = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
      ended(exitCode, signal);
    }, OUTPUT_AFTER_EXIT_MS);
  });
  return () => clearTimeout(timer);
}

module.exports = { runProgram };

if (require.main === module) {
  process.on('message', (/** @type {ProgramRequest & { id: number }} */ req) => {
    runProgram(req, (r) => { if (process.connected) process.send?.({ id: req.id, ...r }); });
  });
  // the parent gone, or giving up on this helper: what it runs goes with it
  const end = () => {
    for (const child of running) child.kill('SIGKILL');
    process.exit(0);
  };
  process.on('disconnect', end);
  process.on('SIGTERM', end);
}
