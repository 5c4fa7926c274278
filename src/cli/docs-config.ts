// Generates docs/configuration.md from the config schema, so the reference of every setting stays
// the schema's: `npm run docs:config` rewrites it, test/config/docs.test.ts fails while it is stale.

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { CONFIG_SCHEMA, isLeaf } from '../config/schema.ts';
import type { GroupSpec, LeafSpec } from '../config/schema.ts';

const INTRO = `# Configuration

<!-- Generated from src/config/schema.ts by \`npm run docs:config\`; do not edit by hand. -->

Every setting can be given as an environment variable, or in a JSON file named by \`EDXGATE_CONFIG\`
under its JSON key (nested objects). The configuration is validated when the gateway starts: an
unknown key or a bad value stops the start with a message naming the setting. Secrets are never
echoed in errors or logs.
`;

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function kind(leaf: LeafSpec): string {
  switch (leaf.type) {
    case 'string':
      return leaf.patternHint ?? 'text';
    case 'integer':
      return `integer ${leaf.min ?? '…'}–${leaf.max ?? '…'}`;
    case 'boolean':
      return 'true / false';
    case 'enum':
      return leaf.values.map((v) => `\`${v}\``).join(', ');
  }
}

function defaultOf(leaf: LeafSpec): string {
  if (leaf.type === 'string') {
    if (leaf.default !== undefined) return `\`${leaf.default}\``;
    return 'unset';
  }
  return `\`${String(leaf.default)}\``;
}

function rows(group: GroupSpec, path: readonly string[]): string[] {
  const out: string[] = [];
  for (const [key, node] of Object.entries(group)) {
    const here = [...path, key];
    if (isLeaf(node)) {
      const secret = node.type === 'string' && node.secret === true ? ' (secret)' : '';
      out.push(`| ${node.env === undefined ? '' : `\`${node.env}\``} | \`${here.join('.')}\` | ${cell(kind(node))} | ${defaultOf(node)} | ${cell(node.doc)}${secret} |`);
    } else {
      out.push(...rows(node, here));
    }
  }
  return out;
}

/** The full text of docs/configuration.md for the current schema. */
export function renderConfigMarkdown(): string {
  return `${INTRO}
| environment | JSON key | value | default | what it does |
|---|---|---|---|---|
${rows(CONFIG_SCHEMA, []).join('\n')}
`;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.stdout.write(renderConfigMarkdown());
