// The kernel's own change notifications for links, addresses, routes and (host only) IP
// settings such as forwarding, via `ip monitor`.
// The agent treats every event as "look again": it never trusts the event's content alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { MONITOR_RESTART_BACKOFF, MONITOR_STABLE_MS, restartPace } from '../runtime/backoff.js';
import { inNetns, ipArgv, type NetTarget } from './target.js';
import { NETLINK_NETFILTER, NETLINK_ROUTE, netlinkSubscribed } from './subscribed.js';

export interface MonitorEvent {
  object: 'link' | 'addr' | 'route' | 'netconf' | 'other';
  deleted: boolean;
  /** the line as ip printed it, without the label */
  text: string;
}

const OBJECTS = { LINK: 'link', ADDR: 'addr', ROUTE: 'route', NETCONF: 'netconf' } as const;

/** Parses one line of `ip monitor label link address route [netconf]`. */
export function parseMonitorLine(line: string): MonitorEvent | undefined {
  const m = /^\[(LINK|ADDR|ROUTE|NETCONF)\]\s*(.*)$/.exec(line.trim());
  if (!m) return line.trim() ? { object: 'other', deleted: false, text: line.trim() } : undefined;
  const object = OBJECTS[m[1] as keyof typeof OBJECTS];
  const text = m[2];
  return { object, deleted: text.startsWith('Deleted '), text: text.replace(/^Deleted /, '') };
}

export interface Monitor {
  /** ends the command; resolves once it has exited (SIGKILL after 2 s), so what it held is let go */
  close(): Promise<void>;
  /** the command's PID while it runs (a watcher in a namespace: /proc/<pid>/ns/net reaches it) */
  readonly pid?: number;
}

export interface WatchOptions {
  /**
   * restart the command when it exits (default true): after restartMs (default 1 s), doubling
   * while it keeps exiting (MONITOR_RESTART_BACKOFF), from restartMs again once it ran MONITOR_STABLE_MS
   */
  restart?: boolean;
  restartMs?: number;
  /**
   * it exited and was (or, with restart: false, was not) started again: events may be lost.
   * Called once the new command has been started (with restart: false, at the exit)
   */
  onRestart?: (why: string) => void;
  /** the command itself is missing: nothing is restarted */
  onMissing?: (why: string) => void;
  /** the line handler threw: reported here (the watch goes on), never out of the stream's listener */
  onLineError?: (err: Error, line: string) => void;
  /**
   * the command runs on but said on stderr that the kernel dropped events (`ip monitor`'s
   * "netlink receive error No buffer space available (105)": its socket overflowed while the
   * pipe to us was full); what they told is unknown, so look at everything again
   */
  onLost?: (why: string) => void;
  /** each command started, with its PID (a restarted one again) */
  onStart?: (pid: number) => void;
  /** the command exited on its own (not closed): told at once, before any restart */
  onExit?: (why: string) => void;
}

/** `ip monitor`'s report of an overflowed netlink socket (ENOBUFS, errno 105 on Linux), in any locale. */
export const isEventsLostLine = (line: string) => /receive error .*\(105\)|No buffer space available/.test(line);

let setpriv: boolean | undefined;

/**
 * argv that makes the kernel end the watcher when the agent dies, even by SIGKILL: a watcher
 * left behind would hold its namespace (a dead container's, with its NICs) alive for ever.
 */
function dieWithParent(cmd: string, args: string[]): [string, string[]] {
  setpriv ??= ['/usr/bin/setpriv', '/bin/setpriv'].some((p) => existsSync(p));
  return setpriv ? ['setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
}

/** Runs a long-lived command (argv, no shell) and hands each stdout line to onLine. */
export function watchLines(cmd: string, args: string[], onLine: (line: string) => void, opts: WatchOptions = {}): Monitor {
  let child: ChildProcess | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const pace = restartPace({ ...MONITOR_RESTART_BACKOFF, initialMs: opts.restartMs ?? MONITOR_RESTART_BACKOFF.initialMs }, MONITOR_STABLE_MS);
  const start = () => {
    const [c, a] = dieWithParent(cmd, args);
    pace.started();
    const p = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = p;
    if (p.pid !== undefined) opts.onStart?.(p.pid);
    let stderr = '';
    let missing = false;
    p.stderr!.on('data', (d) => { stderr = (stderr + String(d)).slice(-500); });
    createInterface({ input: p.stderr! }).on('line', (line) => { if (isEventsLostLine(line)) opts.onLost?.(`${cmd}: ${line.trim()}`); });
    createInterface({ input: p.stdout! }).on('line', (line) => {
      try { onLine(line); } catch (err) { opts.onLineError?.(err instanceof Error ? err : new Error(String(err)), line); }
    });
    p.on('error', (err: NodeJS.ErrnoException) => {
      stderr += err.message;
      if (err.code === 'ENOENT') missing = true;
    });
    p.on('close', (code) => {
      if (closed) return;
      const why = `${cmd} exited (${code ?? 'signal'}): ${stderr.trim()}`;
      opts.onExit?.(why);
      // nsenter reports a missing program itself, after it started fine.
      if (missing || /failed to execute|executable file not found/.test(stderr)) { opts.onMissing?.(why); return; }
      if (opts.restart === false) { opts.onRestart?.(why); return; }
      const delay = pace.next();
      // told once the new one runs: a look then (the agent's resync) also sees what changed in the gap
      timer = setTimeout(() => { start(); opts.onRestart?.(`${why}; started again after ${delay} ms`); }, delay);
    });
  };
  start();
  return {
    get pid() { return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined; },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      return child ? endChild(child) : Promise.resolve();
    },
  };
}

/**
 * SIGTERM, SIGKILL after 2 s; resolves when the child has exited (bounded: 4 s). A watcher
 * inside a container's namespace holds that namespace until it has really gone.
 */
function endChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
    const giveUp = setTimeout(done, 4000);
    function done() { clearTimeout(kill); clearTimeout(giveUp); resolve(); }
    child.once('exit', done);
    child.kill('SIGTERM');
  });
}

export interface SubscribedOptions extends WatchOptions {
  /**
   * the command (each one started) now holds its subscription to the kernel's events: from
   * here on no change goes untold (until onExit or onLost). Not called when that is not seen
   * within SUBSCRIBED_WITHIN_MS.
   */
  onSubscribed?: () => void;
}

export interface MonitorOptions extends SubscribedOptions {
  /**
   * also IP settings ("[NETCONF]inet all forwarding off"): the host's, where the agent keeps
   * ip_forward on; not a container's, whose every new interface prints a line of its own
   */
  netconf?: boolean;
}

/** How long a started watcher (`ip monitor`, `nft monitor`) is looked at for its subscription before it is given up on. */
export const SUBSCRIBED_WITHIN_MS = 5_000;

/**
 * opts with an onStart that calls opts.onSubscribed once the command (the last started) holds a
 * subscribed socket of `protocol`, while it still runs: the look reads /proc on the threadpool,
 * and a command that exited before its answer came (its onExit told already) was told
 * subscribed after it, so the reads kept on its word were trusted with no watcher running
 * (review h180). `subscribed`: the look (tests give a slow one).
 */
export function toldSubscribed<O extends SubscribedOptions>(protocol: number, opts: O, subscribed = netlinkSubscribed): O {
  let started = 0;
  let running = 0;
  const onStart = (pid: number) => {
    opts.onStart?.(pid);
    const run = ++started;
    running = run;
    if (opts.onSubscribed) void subscribed(pid, SUBSCRIBED_WITHIN_MS, protocol).then((yes) => { if (yes && run === started && running === run) opts.onSubscribed?.(); });
  };
  const onExit = (why: string) => { running = 0; opts.onExit?.(why); };
  return { ...opts, onStart, onExit };
}

/** `ip monitor` of links, addresses and routes (and with `netconf`, IP settings) in the target namespace. */
export function monitor(target: NetTarget, onEvent: (e: MonitorEvent) => void, opts: MonitorOptions = {}): Monitor {
  const [cmd, args] = ipArgv(target, ['monitor', 'label', 'link', 'address', 'route', ...(opts.netconf ? ['netconf'] : [])]);
  return watchLines(cmd, args, (line) => {
    const e = parseMonitorLine(line);
    if (e) onEvent(e);
  }, toldSubscribed(NETLINK_ROUTE, opts));
}

/**
 * nftables rule changes in the target namespace (iptables here is iptables-nft, so a rule
 * deleted with iptables shows up too). Each line is one changed rule or chain.
 */
export function rulesMonitor(target: NetTarget, onChange: (line: string) => void, opts: SubscribedOptions = {}): Monitor {
  const [cmd, args] = inNetns(target, 'nft', ['monitor', 'rules']);
  return watchLines(cmd, args, (line) => { if (line.trim()) onChange(line); }, toldSubscribed(NETLINK_NETFILTER, opts));
}
