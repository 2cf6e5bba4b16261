export { runXctl, buildProgram } from './program.js';
export { processIO, type CliIO } from './io.js';
export { EXIT, exitCodeFor, CliError } from './exit.js';
export { resolveEndpoints, DEFAULT_ENDPOINT } from './connect.js';
