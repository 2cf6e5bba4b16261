// Which network namespace a command acts on. The agent manages one host namespace (its own,
// or a named one with --netns) and reaches into a container through the namespace it pinned
// (pinned.ts): a file it holds open, which stays that namespace whatever becomes of the PID.
export type NetTarget =
  | { kind: 'self' }
  | { kind: 'netns'; name: string }
  | { kind: 'pid'; pid: number }
  /** a namespace file, e.g. `/proc/<agent pid>/fd/<fd>` of a pinned handle; `pid` for messages only */
  | { kind: 'pinned'; path: string; pid?: number };

export const SELF: NetTarget = { kind: 'self' };

export function netnsTarget(name: string | undefined): NetTarget {
  return name ? { kind: 'netns', name } : SELF;
}

export function pidTarget(pid: number): NetTarget {
  return { kind: 'pid', pid };
}

export function pinnedTarget(path: string, pid?: number): NetTarget {
  return pid === undefined ? { kind: 'pinned', path } : { kind: 'pinned', path, pid };
}

/** Command line that runs `ip args...` in the target namespace. */
export function ipArgv(t: NetTarget, args: string[]): [string, string[]] {
  switch (t.kind) {
    case 'self': return ['ip', args];
    // `ip -n` does the setns itself: one process, no nsenter.
    case 'netns': return ['ip', ['-n', t.name, ...args]];
    case 'pid': return ['nsenter', ['-t', String(t.pid), '-n', 'ip', ...args]];
    case 'pinned': return ['nsenter', [`--net=${t.path}`, 'ip', ...args]];
  }
}

/** Command line that runs any program inside the target's network namespace. */
export function inNetns(t: NetTarget, cmd: string, args: string[]): [string, string[]] {
  switch (t.kind) {
    case 'self': return [cmd, args];
    case 'netns': return ['nsenter', [`--net=/var/run/netns/${t.name}`, cmd, ...args]];
    case 'pid': return ['nsenter', ['-t', String(t.pid), '-n', cmd, ...args]];
    case 'pinned': return ['nsenter', [`--net=${t.path}`, cmd, ...args]];
  }
}

export function describeTarget(t: NetTarget): string {
  switch (t.kind) {
    case 'self': return 'this namespace';
    case 'netns': return `netns ${t.name}`;
    case 'pid': return `netns of pid ${t.pid}`;
    case 'pinned': return t.pid === undefined ? `the netns pinned at ${t.path}` : `netns of pid ${t.pid} (pinned at ${t.path})`;
  }
}

/** The file whose inode identifies the target's network namespace. */
export function netnsPath(t: NetTarget): string {
  switch (t.kind) {
    case 'self': return '/proc/self/ns/net';
    case 'netns': return `/var/run/netns/${t.name}`;
    case 'pid': return `/proc/${t.pid}/ns/net`;
    case 'pinned': return t.path;
  }
}
