// docs/configuration.md is generated from the schema; this keeps it from going stale.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { renderConfigMarkdown } from '../../src/cli/docs-config.ts';
import { CONFIG_SCHEMA } from '../../src/config/schema.ts';

t.test('docs/configuration.md is the generated text (regenerate with `npm run docs:config`)', async (t) => {
  const onDisk = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  t.equal(onDisk, renderConfigMarkdown());
});

t.test('every environment variable of the schema is documented', async (t) => {
  const text = renderConfigMarkdown();
  const envs: string[] = [];
  const walk = (node: object): void => {
    for (const value of Object.values(node)) {
      if (typeof value !== 'object' || value === null) continue;
      if ('env' in value && typeof value.env === 'string') envs.push(value.env);
      else walk(value);
    }
  };
  walk(CONFIG_SCHEMA);
  t.ok(envs.length > 20);
  for (const env of envs) t.ok(text.includes(`\`${env}\``), env);
});
