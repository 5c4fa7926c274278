// Generates docs/errors.md from the error catalogue, so the reference can never drift from the code:
// `npm run docs:errors` rewrites it, test/errors.test.ts fails while it is stale.

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { ERROR_CATALOGUE } from '../errors.ts';

const INTRO = `# Error codes

<!-- Generated from src/errors.ts by \`npm run docs:errors\`; do not edit by hand. -->

Every refusal edxgate gives carries one of the codes below. The HTTP API answers with an
\`application/problem+json\` body whose \`code\` member is the code, together with the HTTP status
listed here; the CLI prints the code at the start of each error line (\`edxgate validate --json\`
puts it in \`code\`). Match on the code, never on the message text: codes are stable (new ones are
added, none is renamed or reused), while messages may be reworded.
`;

/**
 * Escapes text for one markdown table cell: `|` everywhere (GFM splits cells on it even inside code
 * spans), and outside code spans also `\\` and `<`, or `<!DOCTYPE>` would render as HTML.
 */
function cell(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part.replace(/\|/g, '\\|') : part.replace(/[\\|<]/g, (c) => `\\${c}`)))
    .join('');
}

/** The full text of docs/errors.md for the current catalogue. */
export function renderErrorsMarkdown(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(
    ([code, entry]) => `| \`${code}\` | ${entry.status} | ${cell(entry.title)} | ${cell(entry.action)} |`,
  );
  return `${INTRO}
| code | HTTP status | meaning | what to do |
|---|---|---|---|
${rows.join('\n')}
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

if (isEntryPoint()) process.stdout.write(renderErrorsMarkdown());
