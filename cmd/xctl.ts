#!/usr/bin/env node
// xctl: the command line of xnet. All logic lives in pkg/cli.
import { processIO, runXctl } from '../pkg/cli/index.js';

const code = await runXctl(process.argv.slice(2), processIO());
process.exitCode = code;
// The etcd client's sockets may linger a moment after close; never let them hold the exit.
setTimeout(() => process.exit(code), 2000).unref();
