#!/usr/bin/env node
// xctl: the command line of xnet. All logic lives in pkg/cli.
import { processIO, runXctl } from '../pkg/cli/index.js';
import { exitEvenIfHeld } from '../pkg/cli/held-exit.js';

const code = await runXctl(process.argv.slice(2), processIO());
process.exitCode = code;
exitEvenIfHeld(code);
