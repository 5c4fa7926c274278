// `edxgate build DESCRIPTION.json [-o OUT]`: turns a JSON packet description (src/cli/describe.ts)
// into edXML, refusing anything the gateway itself would refuse.

import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import type { AgencyCodeForm } from '../edxml/agency-code.ts';
import { buildPacket } from '../edxml/build.ts';
import { decodePacket } from '../edxml/decode.ts';
import type { Packet } from '../edxml/model.ts';
import { validatePacket } from '../edxml/validate.ts';
import { issue, type Issue, type Result } from '../errors.ts';
import { EXIT_INVALID, EXIT_OK, UsageError, formatIssue, type CliIo, type Command } from './command.ts';
import { packetFromDescriptionText } from './describe.ts';
import { agencyCodeFormOption } from './validate.ts';

const USAGE = `Usage: edxgate build DESCRIPTION.json [-o OUT] [--agency-code-form qcvn102|qd20|lenient]

Turns a JSON packet description into an edXML packet, written to OUT or to standard output.
The description is the packet model in JSON (src/edxml/model.ts field names, plus
"kind": "document" | "status"); optional arrays may be omitted, a document's documentId and
manifest may be derived, and an attachment gives its bytes as "content" (base64), "text",
"file" (relative to the description) or "generate": {"bytes": N, "seed": "…"}.

The packet is validated before it is written, and the written bytes are decoded again;
any error is printed as "CODE path: message" and nothing is written.

Options:
  -o, --output OUT          write the packet to OUT instead of standard output
  --agency-code-form FORM   agency code syntax to accept (default qd20)
  -h, --help                show this help

Exit status: 0 built, 1 the description or the packet is invalid, 2 the command line is wrong.
`;

/** The `build` command. */
export const buildCommand: Command = {
  summary: 'make an edXML packet from a JSON description',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        output: { type: 'string', short: 'o' },
        'agency-code-form': { type: 'string' },
      },
    });
    if (positionals.length !== 1) {
      throw new UsageError(`build needs exactly one DESCRIPTION.json, got ${positionals.length}.`);
    }
    const form = agencyCodeFormOption(values['agency-code-form']);
    const description = positionals[0] as string;

    const built = await buildFromFile(resolve(io.cwd, description), form === undefined ? {} : { agencyCodeForm: form });
    const report = (issues: readonly Issue[]) => io.stderr(issues.map((i) => `${formatIssue(i)}\n`).join(''));
    if (!built.ok) {
      report(built.issues);
      return EXIT_INVALID;
    }
    report(built.warnings);
    if (values.output === undefined) {
      io.stdout(built.value);
    } else {
      const out = resolve(io.cwd, values.output);
      try {
        await writeFile(out, built.value, 'utf8');
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        report([issue('EDX_ERR_FILE_UNREADABLE', values.output, `Cannot write the packet: ${reason}.`)]);
        return EXIT_INVALID;
      }
    }
    return EXIT_OK;
  },
};

/** Options of `buildFromFile`, passed on to validation. */
export interface BuildOptions {
  readonly agencyCodeForm?: AgencyCodeForm | undefined;
  /** The instant dates are judged against (default: now). */
  readonly now?: Date | undefined;
}

/** Reads, converts, validates and builds one description file; the edXML text or the issues. */
export async function buildFromFile(path: string, options: BuildOptions = {}): Promise<Result<string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, issues: [issue('EDX_ERR_FILE_UNREADABLE', path, `Cannot read the description: ${reason}.`)] };
  }
  const converted = packetFromDescriptionText(text, { baseDir: dirname(path) });
  if (!converted.ok) return converted;
  return buildChecked(converted.value, options);
}

/** Validates a packet, builds it, and decodes the output again; the text only if all three agree. */
export function buildChecked(packet: Packet, options: BuildOptions = {}): Result<string> {
  const validateOptions = {
    ...(options.agencyCodeForm === undefined ? {} : { agencyCodeForm: options.agencyCodeForm }),
    ...(options.now === undefined ? {} : { now: options.now }),
  };
  const found = validatePacket(packet, validateOptions);
  if (found.some((i) => i.severity === 'error')) return { ok: false, issues: found };

  let xml: string;
  try {
    xml = buildPacket(packet);
  } catch (error) {
    // The builder throws TypeError for characters XML cannot carry (control characters).
    if (!(error instanceof TypeError)) throw error;
    return { ok: false, issues: [issue('EDX_ERR_BUILD_INPUT_INVALID', '$', `${error.message}.`)] };
  }
  // Decoding our own output catches any builder/parser disagreement before a receiver does.
  const decoded = decodePacket(xml, validateOptions);
  if (!decoded.ok) return decoded;
  return { ok: true, value: xml, warnings: found };
}
