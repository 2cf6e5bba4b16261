// Makes the programs package.json names under "bin" executable after a build: tsc writes them
// without the executable bit, and `npx xctl` from the repository root runs the file itself.
import { chmodSync, readFileSync } from 'node:fs';

const { bin } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
for (const file of Object.values(bin)) chmodSync(new URL(`../${file}`, import.meta.url), 0o755);
