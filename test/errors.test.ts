// The error catalogue is a contract: callers match on its codes and read docs/errors.md. These tests
// keep the codes well-formed and the document in step with src/errors.ts.

import { readFileSync } from 'node:fs';
import t from 'tap';

import { renderErrorsMarkdown } from '../src/cli/docs-errors.ts';
import { ERROR_CATALOGUE, issue, isErrorCode } from '../src/errors.ts';

const entries = Object.entries(ERROR_CATALOGUE);

t.test('docs/errors.md is the generated text (regenerate with `npm run docs:errors`)', async (t) => {
  const onDisk = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  t.equal(onDisk, renderErrorsMarkdown());
});

t.test('docs/errors.md lists every code exactly once, with its status', async (t) => {
  const text = renderErrorsMarkdown();
  for (const [code, entry] of entries) {
    const rows = text.split('\n').filter((line) => line.startsWith(`| \`${code}\` |`));
    t.equal(rows.length, 1, `${code} has one row`);
    t.match(rows[0] ?? '', ` | ${entry.status} | `, `${code} row shows HTTP ${entry.status}`);
  }
  t.match(text, 'application/problem+json');
});

t.test('every code is EDX_ERR_<AREA>_<WHAT>', async (t) => {
  t.ok(entries.length > 0);
  for (const [code] of entries) {
    t.match(code, /^EDX_ERR_[A-Z0-9]+(_[A-Z0-9]+)+$/, code);
    t.ok(isErrorCode(code), `${code} is recognised`);
  }
  t.notOk(isErrorCode('EDX_ERR_NOT_IN_THE_CATALOGUE'));
  t.notOk(isErrorCode('toString'), 'inherited object keys are not codes');
});

t.test('every status is an HTTP client or server error', async (t) => {
  for (const [code, entry] of entries) {
    t.ok(Number.isInteger(entry.status) && entry.status >= 400 && entry.status <= 599, `${code}: ${entry.status}`);
  }
});

t.test('every title and action is a non-empty text, every action a sentence', async (t) => {
  for (const [code, entry] of entries) {
    t.ok(entry.title.trim().length > 0, `${code} has a title`);
    t.notMatch(entry.title, /\.$/, `${code} title is a label, not a sentence`);
    t.match(entry.action, /\.$/, `${code} action ends with a period`);
  }
});

t.test('an issue message ends with the catalogue action', async (t) => {
  const found = issue('EDX_ERR_FIELD_REQUIRED', 'MessageHeader/Subject', 'The field is empty.');
  t.equal(found.message, `The field is empty. ${ERROR_CATALOGUE.EDX_ERR_FIELD_REQUIRED.action}`);
  t.equal(found.severity, 'error');
});
