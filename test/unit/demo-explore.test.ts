// The demo's closing text (scripts/demo-explore.sh, printed by scripts/demo.sh): its tear-down
// command must reach the lab the demo made, so it carries the XNET_LAB_ID / XNET_LAB_DIR the demo
// ran with (xctl picks its lab by them); a plain `xctl lab down` took down another lab, or none.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** What the script prints with only `vars` of the XNET_LAB_* variables set. */
function explore(vars: Record<string, string>, ...args: string[]): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('XNET_LAB_')));
  return execFileSync('bash', ['scripts/demo-explore.sh', ...args], { env: { ...env, ...vars }, encoding: 'utf8' });
}

const tearDown = (out: string) => out.split('\n')[out.split('\n').indexOf('Tear down:') + 1];

describe('the demo\'s closing text', () => {
  it('without a lab of its own: the plain command', () => {
    expect(tearDown(explore({}))).toBe('  xctl lab down                                           removes every namespace, process and mount');
    expect(explore({})).toMatch(/^Explore:\n/);
  });

  it('with XNET_LAB_ID: the command carries it, and the text says to export it for the others', () => {
    const out = explore({ XNET_LAB_ID: 'x37' });
    expect(tearDown(out)).toBe('  XNET_LAB_ID=x37 xctl lab down                           removes every namespace, process and mount');
    expect(out).toMatch(/^Explore \(xctl finds this lab by its variables: first export XNET_LAB_ID=x37\):\n/);
  });

  it('with XNET_LAB_DIR (and ID): both, quoted so that the pasted command sets them as the demo had them', () => {
    const dir = "/tmp/a lab's dir";
    const line = tearDown(explore({ XNET_LAB_ID: 'x37', XNET_LAB_DIR: dir }));
    const command = line.trim().replace(/ xctl lab down\s+removes every namespace, process and mount$/, '');
    expect(command).toMatch(/^XNET_LAB_ID=x37 XNET_LAB_DIR=/);
    // the command as a shell reads it, with printenv in xctl's place
    const seen = execFileSync('bash', ['-c', `${command} printenv XNET_LAB_ID XNET_LAB_DIR`], { encoding: 'utf8' });
    expect(seen).toBe(`x37\n${dir}\n`);
    expect(explore({ XNET_LAB_ID: 'x37', XNET_LAB_DIR: dir }, 'env')).toBe(`${command} `);
  });
});
