// A container's network namespace held open by the agent. A PID names a process, not a
// namespace: between the check that a container's PID is not in the host's namespace and the
// `ip` calls that follow (an etcd write of up to 10 s lies between), the container may die and
// its PID go to a process of the host, and `nsenter -t PID` would then change the host. So the
// agent opens `/proc/<pid>/ns/net` once, checks that handle, and enters the namespace only
// through it (`/proc/<agent pid>/fd/<fd>`, opened by nsenter and by `ip link set netns`),
// until it closes it. The agent's own PID is spelt out: in a child, /proc/self is the child.
import { open, type FileHandle } from 'node:fs/promises';
import { DataplaneError } from '../errors.js';
import { pinnedTarget, type NetTarget } from './target.js';

export interface PinnedNetns {
  /** the PID it was opened through (messages only: never used to enter the namespace) */
  readonly pid: number;
  /** `/proc/<agent pid>/fd/<fd>`: this namespace while the handle is open */
  readonly path: string;
  readonly target: NetTarget;
  /** device and inode of the namespace: what tells two namespaces apart */
  readonly dev: number;
  readonly ino: number;
  /** closes the handle (again: nothing); the path means nothing after */
  close(): Promise<void>;
}

/** The process is gone (or its namespace cannot be opened): nothing to pin. */
export class PinError extends DataplaneError {}

/** Opens the network namespace file `file` read-only and keeps it open until close(). */
export async function pinNetnsFile(file: string, pid: number): Promise<PinnedNetns> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new PinError('ContainerNotRunning', `cannot open the network namespace of pid ${pid} (${file}): ${(e as Error).message}`, { cause: e });
  }
  try {
    const s = await fh.stat();
    const path = `/proc/${process.pid}/fd/${fh.fd}`;
    let closing: Promise<void> | undefined;
    return { pid, path, target: pinnedTarget(path, pid), dev: s.dev, ino: s.ino, close: () => (closing ??= fh.close()) };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Pins the network namespace process `pid` is in now. */
export function pinNetns(pid: number): Promise<PinnedNetns> {
  return pinNetnsFile(`/proc/${pid}/ns/net`, pid);
}

/**
 * A handle of its own on the namespace `p` holds, for what outlives p's holder (a container's
 * watcher). `p` must be open; the new handle is checked to be the same namespace.
 */
export async function repin(p: PinnedNetns): Promise<PinnedNetns> {
  const again = await pinNetnsFile(p.path, p.pid);
  if (again.dev === p.dev && again.ino === p.ino) return again;
  await again.close();
  throw new PinError('ContainerNotRunning', `${p.path} is no longer the namespace pinned for pid ${p.pid}`);
}
