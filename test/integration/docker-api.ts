// Reads of a lab host's containers through Docker's API from the test's process, where the
// `docker` CLI is not what a test is about: each `docker inspect` the tests ran to learn an
// address or a PID was a Go process of about 50 ms of CPU, started through the worker's spawn
// helper; these are one request to the host's dockerd (DOCKER_REQUEST_TIMEOUT_MS each).
import { hostExec, type ExecResult, type LabHost } from '../../pkg/lab/index.js';
import { DockerClient } from '../../pkg/docker/client.js';

interface Inspected {
  Id: string;
  State: { Running: boolean; Pid: number };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> | null };
}

/** `docker inspect NAME` as Docker's API gives it; throws as the CLI fails (no such container, no dockerd). */
export async function inspectOf(h: LabHost, name: string): Promise<Inspected> {
  return (await new DockerClient(h.dockerHost).docker.getContainer(name).inspect()) as Inspected;
}

/**
 * The container's addresses on its networks, as `docker inspect -f
 * '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'` prints them ('' when stopped).
 */
export async function ipOf(h: LabHost, name: string): Promise<string> {
  return Object.values((await inspectOf(h, name)).NetworkSettings?.Networks ?? {}).map((n) => n.IPAddress ?? '').join('');
}

/** Whether the container runs (`{{.State.Running}}`). */
export async function isRunning(h: LabHost, name: string): Promise<boolean> {
  return (await inspectOf(h, name)).State.Running;
}

/**
 * argv with the machine's tools in the container's network namespace, as root: agent-harness's
 * `inContainerNetns` with the PID read through the API instead of a `docker inspect`.
 */
export async function inNetnsOf(h: LabHost, name: string, argv: string[]): Promise<ExecResult> {
  const pid = (await inspectOf(h, name)).State.Pid;
  if (!(pid > 0)) throw new Error(`container ${name} on ${h.name} is not running (pid ${pid})`);
  return hostExec(h, ['nsenter', `--net=/proc/${pid}/ns/net`, ...argv]);
}
