#!/usr/bin/env node
// Entry point of the `edxgate` command. In a checkout it runs the TypeScript sources through tsx;
// in a production install (no tsx, `npm run build` done) it runs the compiled dist/ tree.
// Plain JavaScript on purpose: it must start before any TypeScript loader is registered.

import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

async function tsxAvailable() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch (error) {
    // Only "tsx is not installed" means production; any other failure is a real problem.
    if (error && typeof error === 'object' && error.code === 'ERR_MODULE_NOT_FOUND') return false;
    throw error;
  }
}

const entry = existsSync(source) && (await tsxAvailable()) ? source : compiled;
if (entry === compiled && !existsSync(compiled)) {
  process.stderr.write('edxgate: neither tsx nor a build is available; run `npm run build` first.\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
