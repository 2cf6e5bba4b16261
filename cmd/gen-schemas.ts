#!/usr/bin/env node
// Writes manifests/schemas/<kind>.json from the zod schemas, so editors with a YAML language
// server validate manifests as the user types. `--check` fails when the committed files are
// stale, which the build runs so a schema change cannot ship without its JSON Schema.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSchemas } from '../pkg/manifest/json-schema.js';

function repoRoot(): string {
  // Runs both from dist/cmd and from cmd: walk up to the package that owns manifests/.
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'manifests'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json next to manifests/)');
    dir = up;
  }
  return dir;
}

const check = process.argv.includes('--check');
const outDir = resolve(repoRoot(), 'manifests', 'schemas');
const stale: string[] = [];
for (const [file, text] of Object.entries(renderSchemas())) {
  const path = join(outDir, file);
  const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (current === text) continue;
  if (check) { stale.push(path); continue; }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
if (stale.length) {
  console.error(`JSON Schemas are out of date with pkg/api:\n${stale.map((s) => '  ' + s).join('\n')}\nrun: npx tsc && node dist/cmd/gen-schemas.js, then commit manifests/schemas`);
  process.exit(1);
}
