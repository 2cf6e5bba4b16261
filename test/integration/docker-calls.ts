// The agent tests' own Docker commands through Docker's API from the test's process, where the
// `docker` CLI is not what a test is about: each `docker` CLI run was a Go process of 50-80 ms of
// CPU started through the worker's spawn helper; these are one request each to the host's
// dockerd over its unix socket (pkg/lab/docker-api.ts: every request has a deadline). What is
// not listed here still runs the CLI (agent-harness `docker`).
import { Readable } from 'node:stream';
import type { LabHost } from '../../pkg/lab/index.js';
import { dockerApi } from '../../pkg/lab/docker-api.js';

/** As long as the CLI path's own bound (pkg/lab/run.ts) for what changes a container. */
const CHANGE_MS = 60_000;
const READ_MS = 30_000;

export class DockerApiRefusal extends Error {}

interface Inspected {
  Id: string;
  State: { Running: boolean; Pid: number };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> | null };
}

const q = encodeURIComponent;

/** One API request; the answer's body, or a DockerApiRefusal with Docker's message when its status is not in `ok`. */
async function call(h: LabHost, method: string, path: string, ok: number[], body?: unknown, timeoutMs = CHANGE_MS): Promise<string> {
  const r = await dockerApi(h.dockerSocket, method, path, body === undefined ? { timeoutMs }
    : { timeoutMs, body: Readable.from([JSON.stringify(body)]), contentType: 'application/json' });
  if (ok.includes(r.status)) return r.body;
  let msg = r.body.trim();
  try { msg = String((JSON.parse(msg) as { message?: unknown }).message ?? msg); } catch { /* not JSON: as given */ }
  throw new DockerApiRefusal(`Docker API ${method} ${path} on ${h.name}: ${r.status} ${msg}`);
}

/** `docker inspect NAME` (a container) as Docker's API gives it. */
export async function inspectContainer(h: LabHost, name: string): Promise<Inspected> {
  return JSON.parse(await call(h, 'GET', `/containers/${q(name)}/json`, [200], undefined, READ_MS)) as Inspected;
}

/** The PID of the container's first process; 0 while it does not run. */
export async function containerPid(h: LabHost, name: string): Promise<number> {
  return (await inspectContainer(h, name)).State.Pid;
}

/**
 * The body of POST /containers/create for `docker create --name NAME [OPTIONS] IMAGE CMD...`
 * (`rest` is what follows `create`, or `run -d`) and the name; undefined for options not known here.
 */
function createRequest(rest: string[]): { name: string; body: Record<string, unknown> } | undefined {
  if (rest[0] !== '--name' || !rest[1]) return undefined;
  const o: Record<string, string> = {};
  let i = 2;
  for (; rest[i]?.startsWith('-'); i += 2) {
    const k = rest[i] === '--network' ? '--net' : rest[i];
    if (!['--net', '--ip', '--restart'].includes(k) || rest[i + 1] === undefined) return undefined;
    o[k] = rest[i + 1];
  }
  const [image, ...cmd] = rest.slice(i);
  const net = o['--net'];
  if (!image || net === 'host' || net === 'none' || (o['--ip'] && !net)) return undefined;
  return {
    name: rest[1],
    body: {
      Image: image, ...(cmd.length ? { Cmd: cmd } : {}),
      HostConfig: { ...(net ? { NetworkMode: net } : {}), ...(o['--restart'] ? { RestartPolicy: { Name: o['--restart'] } } : {}) },
      ...(net ? { NetworkingConfig: { EndpointsConfig: { [net]: o['--ip'] ? { IPAMConfig: { IPv4Address: o['--ip'] } } : {} } } } : {}),
    },
  };
}

/** `docker create ...` (`docker run -d ...` with `start`): the container's ID, as the CLI prints it. */
const create = (start: boolean): Verb => async (h, rest) => {
  const req = createRequest(start ? (rest[0] === '-d' ? rest.slice(1) : []) : rest);
  if (!req) return undefined;
  const { Id } = JSON.parse(await call(h, 'POST', `/containers/create?name=${q(req.name)}`, [201], req.body)) as { Id: string };
  if (start) await call(h, 'POST', `/containers/${q(Id)}/start`, [204, 304]);
  return Id;
};

/** What `docker inspect -f TEMPLATE` prints for the templates the tests use; undefined for others (and for a network the container is not on). */
function fromTemplate(c: Inspected, template: string): string | undefined {
  const nets = c.NetworkSettings?.Networks ?? {};
  if (template === '{{.State.Pid}}') return String(c.State.Pid);
  if (template === '{{.State.Running}}') return String(c.State.Running);
  if (template === '{{.Id}}') return c.Id;
  // Go ranges over a map in key order, as Docker's JSON lists it
  if (template === '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}') return Object.keys(nets).sort().map((k) => nets[k].IPAddress ?? '').join('');
  const one = /^\{\{(?:\.NetworkSettings\.Networks\.(\w+)|\(index \.NetworkSettings\.Networks "([^"]+)"\))\.IPAddress\}\}$/.exec(template);
  const net = one ? nets[one[1] ?? one[2]] : undefined;
  return net ? net.IPAddress ?? '' : undefined;
}

type Verb = (h: LabHost, rest: string[]) => Promise<string | undefined>;

/** `docker VERB NAME` and `docker VERB -t N NAME` on one container; stdout as the CLI prints it (the name). */
const onContainer = (action: string, timed: boolean): Verb => async (h, rest) => {
  const t = timed && rest[0] === '-t' ? rest[1] : undefined;
  const names = t === undefined ? rest : rest.slice(2);
  if (names.length !== 1 || names[0].startsWith('-') || (t !== undefined && !/^\d+$/.test(t))) return undefined;
  await call(h, 'POST', `/containers/${q(names[0])}/${action}${t !== undefined ? `?t=${t}` : ''}`, [204, 304]);
  return names[0];
};

const VERBS: Record<string, Verb> = {
  create: create(false),
  run: create(true),
  start: onContainer('start', false),
  pause: onContainer('pause', false),
  unpause: onContainer('unpause', false),
  stop: onContainer('stop', true),
  restart: onContainer('restart', true),
  async rm(h, rest) {
    const force = rest[0] === '-f';
    const names = force ? rest.slice(1) : rest;
    if (names.length === 0 || names.some((n) => n.startsWith('-'))) return undefined;
    // as the CLI: with -f, a container that is not there is no error
    for (const n of names) await call(h, 'DELETE', `/containers/${q(n)}${force ? '?force=1' : ''}`, force ? [204, 404] : [204]);
    return names.join('\n');
  },
  async rename(h, rest) {
    if (rest.length !== 2 || rest.some((n) => n.startsWith('-'))) return undefined;
    await call(h, 'POST', `/containers/${q(rest[0])}/rename?name=${q(rest[1])}`, [204]);
    return '';
  },
  async inspect(h, rest) {
    if (rest.length !== 3 || rest[0] !== '-f') return undefined;
    return fromTemplate(await inspectContainer(h, rest[2]), rest[1]);
  },
  async ps(h, rest) {
    if (rest.join(' ') !== '-a --format {{.Names}}') return undefined;
    const list = JSON.parse(await call(h, 'GET', '/containers/json?all=1', [200], undefined, READ_MS)) as Array<{ Names?: string[] }>;
    return list.map((c) => (c.Names ?? []).map((n) => n.replace(/^\//, '')).join(',')).join('\n');
  },
  async network(h, rest) {
    if (rest.join(' ') === 'ls --format {{.Name}}') {
      const list = JSON.parse(await call(h, 'GET', '/networks', [200], undefined, READ_MS)) as Array<{ Name: string }>;
      return list.map((n) => n.Name).sort().join('\n');
    }
    if (rest.length === 4 && rest.slice(0, 3).join(' ') === 'inspect -f {{.Id}}') {
      return (JSON.parse(await call(h, 'GET', `/networks/${q(rest[3])}`, [200], undefined, READ_MS)) as { Id: string }).Id;
    }
    return undefined;
  },
};

/** `docker ARGS` through the API when it is one of the forms above: its stdout; undefined when the CLI has to run it. */
export async function dockerViaApi(h: LabHost, args: string[]): Promise<string | undefined> {
  const verb = Object.hasOwn(VERBS, args[0]) ? VERBS[args[0]] : undefined;
  return verb?.(h, args.slice(1));
}
