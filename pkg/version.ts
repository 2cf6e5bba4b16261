// xnet's version: what `xctl version` prints and what an agent reports in its Node's status
// (agentVersion). Kept equal to package.json's by a unit test.
export const XNET_VERSION = '0.1.0';
