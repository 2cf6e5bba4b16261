// Which network namespace a command acts on. The agent manages one host namespace (its own,
// or a named one with --netns) and reaches into containers by their PID.
export type NetTarget =
  | { kind: 'self' }
  | { kind: 'netns'; name: string }
  | { kind: 'pid'; pid: number };

export const SELF: NetTarget = { kind: 'self' };

export function netnsTarget(name: string | undefined): NetTarget {
  return name ? { kind: 'netns', name } : SELF;
}

export function pidTarget(pid: number): NetTarget {
  return { kind: 'pid', pid };
}

/** Command line that runs `ip args...` in the target namespace. */
export function ipArgv(t: NetTarget, args: string[]): [string, string[]] {
  switch (t.kind) {
    case 'self': return ['ip', args];
    // `ip -n` does the setns itself: one process, no nsenter.
    case 'netns': return ['ip', ['-n', t.name, ...args]];
    case 'pid': return ['nsenter', ['-t', String(t.pid), '-n', 'ip', ...args]];
  }
}

/** Command line that runs any program inside the target's network namespace. */
export function inNetns(t: NetTarget, cmd: string, args: string[]): [string, string[]] {
  switch (t.kind) {
    case 'self': return [cmd, args];
    case 'netns': return ['nsenter', [`--net=/var/run/netns/${t.name}`, cmd, ...args]];
    case 'pid': return ['nsenter', ['-t', String(t.pid), '-n', cmd, ...args]];
  }
}

export function describeTarget(t: NetTarget): string {
  return t.kind === 'self' ? 'this namespace' : t.kind === 'netns' ? `netns ${t.name}` : `netns of pid ${t.pid}`;
}

/** The file whose inode identifies the target's network namespace. */
export function netnsPath(t: NetTarget): string {
  switch (t.kind) {
    case 'self': return '/proc/self/ns/net';
    case 'netns': return `/var/run/netns/${t.name}`;
    case 'pid': return `/proc/${t.pid}/ns/net`;
  }
}
