// Running commands "on" a lab host: inside its network namespace, with DOCKER_HOST pointing
// at its daemon, exactly like a shell on that machine would.
import { dockerArgv } from './dockerd.js';
import { dirname } from 'node:path';
import { run } from './run.js';
import { labPath } from './tools.js';
import type { LabHost } from './types.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** nsenter --net: only the network namespace changes; files and processes stay the machine's. */
export function hostExecArgv(host: LabHost, argv: string[]): string[] {
  return ['nsenter', `--net=${host.netnsPath}`, ...argv];
}

export function hostEnv(host: LabHost): Record<string, string> {
  return { DOCKER_HOST: host.dockerHost, PATH: labPath(dirname(host.dir)) };
}

/** Runs argv on the host; a non-zero exit is returned, not thrown, unless check is set. */
export async function hostExec(host: LabHost, argv: string[], opts: { check?: boolean; timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
  return run(hostExecArgv(host, argv), { env: hostEnv(host), reject: !!opts.check, timeoutMs: opts.timeoutMs, input: opts.input });
}

/** `docker ARGS` against the host's daemon. */
export async function hostDocker(host: LabHost, args: string[], opts: { check?: boolean; timeoutMs?: number } = {}): Promise<ExecResult> {
  return run(dockerArgv(host, args), { reject: !!opts.check, timeoutMs: opts.timeoutMs });
}
