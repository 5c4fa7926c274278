// `edxgate validate FILE...`: decodes each file as the gateway's intake would (parse, then field
// validation) and says, per file, OK or what is wrong with it.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { AGENCY_CODE_FORMS, isAgencyCodeForm, type AgencyCodeForm } from '../edxml/agency-code.ts';
import { decodePacket } from '../edxml/decode.ts';
import { issue, type Issue } from '../errors.ts';
import { EXIT_INVALID, EXIT_OK, UsageError, formatIssue, type CliIo, type Command } from './command.ts';

/** One issue as `--json` prints it; `value` is null when the issue repeats no value. */
export interface JsonIssue {
  readonly code: string;
  readonly path: string;
  readonly message: string;
  readonly value: string | null;
}

/** One file's verdict as `--json` prints it. */
export interface FileReport {
  readonly file: string;
  readonly ok: boolean;
  readonly errors: readonly JsonIssue[];
  readonly warnings: readonly JsonIssue[];
}

const USAGE = `Usage: edxgate validate FILE... [--json] [--agency-code-form qcvn102|qd20|lenient]

Decodes each edXML file (parse, then field validation) and prints, per file, OK or its
errors as "CODE path: message" lines; warnings are printed with a "warning" prefix.

Options:
  --json                    print a JSON array [{file, ok, errors, warnings}] instead
  --agency-code-form FORM   agency code syntax to accept: qcvn102 (strict 13 characters),
                            qd20 (QĐ 20/2020, the default) or lenient (sandbox ids)
  -h, --help                show this help

Exit status: 0 every file is valid, 1 at least one is not (or cannot be read),
2 the command line is wrong.
`;

/** The `validate` command. */
export const validateCommand: Command = {
  summary: 'check edXML packets: OK or catalogued errors per file',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        'agency-code-form': { type: 'string' },
      },
    });
    if (positionals.length === 0) throw new UsageError('validate needs at least one FILE.');
    const form = agencyCodeFormOption(values['agency-code-form']);

    const verdicts: FileVerdict[] = [];
    for (const file of positionals) {
      verdicts.push(await validateFile(file, io.cwd, form));
    }
    if (values.json) io.stdout(`${JSON.stringify(verdicts.map(toReport), null, 2)}\n`);
    else io.stdout(verdicts.map(formatVerdict).join(''));
    return verdicts.every((v) => v.errors.length === 0) ? EXIT_OK : EXIT_INVALID;
  },
};

/** The `--agency-code-form` value, checked; undefined leaves validation's default. */
export function agencyCodeFormOption(value: string | undefined): AgencyCodeForm | undefined {
  if (value === undefined) return undefined;
  if (!isAgencyCodeForm(value)) {
    throw new UsageError(`--agency-code-form must be one of ${AGENCY_CODE_FORMS.join(', ')}, not "${value}".`);
  }
  return value;
}

/** What `validate` found in one file, errors and warnings apart. */
export interface FileVerdict {
  readonly file: string;
  readonly errors: readonly Issue[];
  readonly warnings: readonly Issue[];
}

/** Decodes one file; an unreadable file is a verdict with EDX_ERR_FILE_UNREADABLE, not an exception. */
export async function validateFile(file: string, cwd: string, form: AgencyCodeForm | undefined): Promise<FileVerdict> {
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(cwd, file));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { file, errors: [issue('EDX_ERR_FILE_UNREADABLE', file, `Cannot read the file: ${reason}.`)], warnings: [] };
  }
  const result = decodePacket(bytes, form === undefined ? {} : { agencyCodeForm: form });
  if (result.ok) return { file, errors: [], warnings: result.warnings };
  return {
    file,
    errors: result.issues.filter((i) => i.severity === 'error'),
    warnings: result.issues.filter((i) => i.severity === 'warning'),
  };
}

function toReport(v: FileVerdict): FileReport {
  return { file: v.file, ok: v.errors.length === 0, errors: v.errors.map(toJson), warnings: v.warnings.map(toJson) };
}

function toJson(item: Issue): JsonIssue {
  return { code: item.code, path: item.path, message: item.message, value: item.value ?? null };
}

function formatVerdict(v: FileVerdict): string {
  const counts = [plural(v.errors.length, 'error'), plural(v.warnings.length, 'warning')].filter((s) => s !== '');
  const ok = v.errors.length === 0;
  const head = ok ? `${v.file}: OK${counts.length > 0 ? ` (${counts.join(', ')})` : ''}` : `${v.file}: ${counts.join(', ')}`;
  const lines = [...v.errors, ...v.warnings].map((i) => `  ${formatIssue(i)}\n`);
  return `${head}\n${lines.join('')}`;
}

function plural(n: number, word: string): string {
  return n === 0 ? '' : `${n} ${word}${n === 1 ? '' : 's'}`;
}
