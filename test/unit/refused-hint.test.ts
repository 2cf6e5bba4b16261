// What xctl says about the identity etcd refused when it cannot name it by a certificate's CN
// (cli/refused.ts refusedHint): none was given, or the one given cannot be read. The hint named
// with a CN (a node's, xnet-admin's) is seen against a real etcd in xctl-identity.test.ts.
import { describe, expect, it } from 'vitest';
import { refusedHint } from '../../pkg/cli/refused.js';

describe('refusedHint', () => {
  it('with no client certificate: says so and which one to give, not "if it is given already"', () => {
    expect(refusedHint({})).toBe('xctl ran with no client certificate; it reads every xnet key and writes objects as etcd\'s xnet-admin user: ' +
      'give its certificate with --cert and --key, or none against the running lab, which uses it; docs/security.md');
  });

  it('with a certificate it cannot read: names the file, and both ways out (its certificate, or auth init after an upgrade)', () => {
    expect(refusedHint({ cert: '/nonexistent/h139/admin.pem' })).toBe('xctl ran with the client certificate /nonexistent/h139/admin.pem; ' +
      'it reads every xnet key and writes objects as etcd\'s xnet-admin user: give its certificate with --cert and --key, or none against ' +
      'the running lab, which uses it; if it is given already and xnet was upgraded, run `xctl auth init` again to bring the roles up to date; docs/security.md');
  });
});
