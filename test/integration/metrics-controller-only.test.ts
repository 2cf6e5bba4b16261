// The controller's own series (xnet_leader, xnet_leader_terms_total) come from processes that
// run a controller, not from every xnet process: an operator trial found every agent exporting
// `xnet_leader{component="agent"} 0`, so a query such as count(xnet_leader == 0) counted each
// agent as a standby controller. Each case runs in a process of its own (the registry is one
// per process), from the built modules, as the daemons run them.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = resolve('dist/pkg');

/** The metrics page of a fresh process that imported `modules` and ran `then`. */
function metricsOf(modules: string[], then = ''): string {
  const imports = modules.map((m, i) => `const m${i} = await import(${JSON.stringify(`${dist}/${m}`)});`).join('\n');
  const script = `${imports}\nconst { registry } = await import(${JSON.stringify(`${dist}/metrics/metrics.js`)});\n${then}\nprocess.stdout.write(await registry.metrics());`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
}

describe('the controller\'s metrics', () => {
  it('are not exported by a process that runs an agent and no controller', () => {
    const text = metricsOf(['agent/agent.js']);
    expect(text).toMatch(/^# HELP xnet_reconcile_duration_seconds /m);
    expect(text).not.toMatch(/xnet_leader/);
  });

  it('are exported, once, by a process that makes a controller', () => {
    // a client that is never called: the constructor only wires the controller up
    const text = metricsOf(['controller/controller.js'], `new m0.Controller({ client: { watch() {}, lease() {} }, id: 'a' }); new m0.Controller({ client: { watch() {}, lease() {} }, id: 'b' });`);
    expect(text).toMatch(/^xnet_leader 0$/m);
    expect(text).toMatch(/^xnet_leader_terms_total 0$/m);
    expect(text.match(/^# HELP xnet_leader /gm)).toHaveLength(1);
  });
});
