// bench/scale.ts's instruments: the CPU meter that says which process spent a phase's CPU, and
// the NIC rows of its report (each way of allocating gets its own verdict against the 10x target).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuMeter, cpuSecondsOf } from '../../bench/scale/cpu.js';
import { formatReport, type Figures } from '../../bench/scale/report.js';

/** Spins until this process has spent `ms` of CPU (not of wall time: a loaded machine gives less CPU per second). */
const busy = (ms: number) => {
  const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const end = cpuMs() + ms;
  while (cpuMs() < end);
};

describe('cpuSecondsOf', () => {
  it('reads a process\'s user and system time from /proc, and 0 for one that has exited', async () => {
    // a child that spends 400 ms of CPU, says so, then waits to be read
    const spin = 'const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }; while (cpu() < 400); console.log("spun"); setTimeout(() => {}, 20000)';
    const child = spawn(process.execPath, ['-e', spin]);
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('spun')) resolve(); });
        child.once('exit', (code) => reject(new Error(`the spinning child exited (${code})`)));
      });
      expect(cpuSecondsOf(child.pid)).toBeGreaterThanOrEqual(0.35);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    expect(cpuSecondsOf(child.pid)).toBe(0);
    expect(cpuSecondsOf(undefined)).toBe(0);
  });

  it('a meter reports what each group spent since it was made', () => {
    const meter = cpuMeter({ 'this test': [process.pid] });
    busy(300);
    const line = meter();
    const spent = Number(/this test (\d+\.\d+) s/.exec(line)?.[1]);
    expect(spent).toBeGreaterThanOrEqual(0.25);
    expect(line).toMatch(/total \d+\.\d+ s \(\d+\.\d+ cores\)/);
  });
});

const figures = (f: Partial<Figures>): Figures => ({
  nodes: 100, started: 100, startS: 5, eventsPerS: 1, bytesPerS: 1, heapPerAgent: 1, routeMs: 100, nicS: NaN, applyS: NaN, backlogS: NaN, backlogLeadS: NaN, ...f,
});

describe('the NIC rows of the report', () => {
  const baseline = figures({ nicS: 17.5, applyS: 1.5 }); // 16 s of create-if-absent transactions
  const row = (report: string, start: string) => report.split('\n').find((l) => l.startsWith(start)) ?? '';

  it('judges the stored NICs\' allocation from the leader\'s term start against the baseline\'s loop, the start-up shown apart', () => {
    const met = formatReport({ nodes: 100, nics: 10_000, baseline, xnet: figures({ nicS: 6, applyS: 4, backlogS: 4.6, backlogLeadS: 3 }) });
    expect(row(met, '10,000 stored NICs')).toMatch(/16\.00 s\s+4\.60 s\s+3\.5x\s+-$/);
    expect(row(met, '  of which the controllers\' start-up')).toMatch(/-\s+3\.00 s\s+-\s+-$/);
    expect(row(met, '  of which the allocation, from the leader')).toMatch(/16\.00 s\s+1\.60 s\s+10\.0x\s+>= 10x faster: met/);
    const missed = formatReport({ nodes: 100, nics: 10_000, baseline, xnet: figures({ nicS: 6, applyS: 4, backlogS: 5, backlogLeadS: 3 }) });
    expect(row(missed, '  of which the allocation, from the leader')).toMatch(/2\.00 s\s+8\.0x\s+>= 10x faster: missed/);
  });

  it('shows the apply and what came after it for NICs applied while everything runs', () => {
    const r = formatReport({ nodes: 100, nics: 10_000, baseline, xnet: figures({ nicS: 6, applyS: 4, backlogS: 5, backlogLeadS: 3 }) });
    expect(row(r, '10,000 NICs applied while all runs')).toMatch(/17\.50 s\s+6\.00 s\s+2\.9x/);
    expect(row(r, '  of which addresses after the apply returned')).toMatch(/16\.00 s\s+2\.00 s\s+8\.0x\s+>= 10x faster: missed/);
    const fast = formatReport({ nodes: 100, nics: 10_000, baseline, xnet: figures({ nicS: 5.5, applyS: 4, backlogS: 5, backlogLeadS: 3 }) });
    expect(row(fast, '  of which addresses after the apply returned')).toMatch(/1\.50 s\s+10\.7x\s+>= 10x faster: met/);
  });

  it('says nothing of the stored NICs when that part did not run', () => {
    const r = formatReport({ nodes: 100, nics: 10_000, baseline, xnet: figures({ nicS: 6, applyS: 4 }) });
    expect(row(r, '10,000 stored NICs')).toMatch(/16\.00 s\s+not run\s+-\s+-$/);
    expect(r).not.toMatch(/term start/);
  });

  it('leaves the NIC rows out of a run that allocated none', () => {
    const r = formatReport({ nodes: 100, nics: 0, baseline: figures({}), xnet: figures({}) });
    expect(r).not.toMatch(/NICs/);
  });
});
