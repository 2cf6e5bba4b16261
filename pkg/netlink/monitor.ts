// The kernel's own change notifications for links, addresses and routes, via `ip monitor`.
// The agent treats every event as "look again": it never trusts the event's content alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ipArgv, type NetTarget } from './target.js';

export interface MonitorEvent {
  object: 'link' | 'addr' | 'route' | 'other';
  deleted: boolean;
  /** the line as ip printed it, without the label */
  text: string;
}

/** Parses one line of `ip monitor label link address route`. */
export function parseMonitorLine(line: string): MonitorEvent | undefined {
  const m = /^\[(LINK|ADDR|ROUTE)\]\s*(.*)$/.exec(line.trim());
  if (!m) return line.trim() ? { object: 'other', deleted: false, text: line.trim() } : undefined;
  const object = m[1] === 'LINK' ? 'link' : m[1] === 'ADDR' ? 'addr' : 'route';
  const text = m[2];
  return { object, deleted: text.startsWith('Deleted '), text: text.replace(/^Deleted /, '') };
}

export interface Monitor {
  close(): void;
}

/**
 * Streams events until closed. When `ip monitor` exits (namespace gone, killed), it is
 * started again after `restartMs` and `onRestart` tells the caller that it may have missed
 * events (it should resync).
 */
export function monitor(target: NetTarget, onEvent: (e: MonitorEvent) => void, opts: {
  restartMs?: number; onRestart?: (why: string) => void;
} = {}): Monitor {
  let child: ChildProcess | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const start = () => {
    const [cmd, args] = ipArgv(target, ['monitor', 'label', 'link', 'address', 'route']);
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = p;
    let stderr = '';
    p.stderr!.on('data', (d) => { stderr = (stderr + String(d)).slice(-500); });
    createInterface({ input: p.stdout! }).on('line', (line) => {
      const e = parseMonitorLine(line);
      if (e) onEvent(e);
    });
    p.on('error', (err) => { stderr += err.message; });
    p.on('close', (code) => {
      if (closed) return;
      opts.onRestart?.(`ip monitor exited (${code ?? 'signal'}): ${stderr.trim()}`);
      timer = setTimeout(start, opts.restartMs ?? 1000);
    });
  };
  start();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (child && child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
