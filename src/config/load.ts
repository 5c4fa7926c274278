// Loads the configuration once at start: schema defaults, then JSON files, then environment
// variables, then explicit overrides (tests). Every problem is reported at once, each naming the key
// and what it expects, so an operator fixes a broken deployment in one round.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { issue, truncateValue } from '../errors.ts';
import type { Issue, Result } from '../errors.ts';
import { CONFIG_SCHEMA, isLeaf } from './schema.ts';
import type { Config, ConfigInput, GroupSpec, LeafSpec } from './schema.ts';

/** Where `loadConfig` reads from; every field has a default suited to `main.ts`. */
export interface LoadConfigOptions {
  /** Environment variables; default `process.env`. Empty strings count as unset. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** JSON files applied in order; default: the file named by EDXGATE_CONFIG, else config/default.json if it exists. */
  readonly files?: readonly string[];
  /** Applied last, in the shape of the JSON files (tests use this). */
  readonly overrides?: ConfigInput;
  /** Base of relative paths (files, DATA_DIR); default `process.cwd()`. */
  readonly cwd?: string;
}

/** The variable that names the config file. */
export const CONFIG_FILE_ENV = 'EDXGATE_CONFIG';
/** The file read when EDXGATE_CONFIG is unset, if it exists. */
export const DEFAULT_CONFIG_FILE = 'config/default.json';

const REDACTED = '[redacted]';

interface LeafEntry {
  readonly path: string;
  readonly spec: LeafSpec;
}

type Checked = { readonly ok: true; readonly value: string | number | boolean } | { readonly ok: false };

function leaves(group: GroupSpec, prefix = ''): LeafEntry[] {
  const out: LeafEntry[] = [];
  for (const [key, node] of Object.entries(group)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isLeaf(node)) out.push({ path, spec: node });
    else out.push(...leaves(node, path));
  }
  return out;
}

const LEAVES: readonly LeafEntry[] = leaves(CONFIG_SCHEMA);

/** What a leaf expects, in words, for error messages. */
function expectation(spec: LeafSpec, fromEnv: boolean): string {
  switch (spec.type) {
    case 'integer': {
      const range =
        spec.min !== undefined && spec.max !== undefined
          ? ` from ${spec.min} to ${spec.max}`
          : spec.min !== undefined
            ? ` of at least ${spec.min}`
            : spec.max !== undefined
              ? ` of at most ${spec.max}`
              : '';
      return `an integer${range}`;
    }
    case 'boolean':
      return fromEnv ? 'true, false, 1 or 0' : 'true or false';
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'string': {
      let text = 'a string';
      if (spec.minLength !== undefined) text += ` of at least ${spec.minLength} characters`;
      if (spec.patternHint !== undefined) text += ` (${spec.patternHint})`;
      return text;
    }
  }
}

function checkValue(spec: LeafSpec, value: unknown): Checked {
  switch (spec.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return { ok: false };
      if (spec.min !== undefined && value < spec.min) return { ok: false };
      if (spec.max !== undefined && value > spec.max) return { ok: false };
      return { ok: true, value };
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false };
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value) ? { ok: true, value } : { ok: false };
    case 'string':
      if (typeof value !== 'string') return { ok: false };
      if (spec.minLength !== undefined && value.length < spec.minLength) return { ok: false };
      if (spec.pattern !== undefined && !spec.pattern.test(value)) return { ok: false };
      return { ok: true, value };
  }
}

/** Environment values are text; convert strictly ("8080x" is not 8080) before the common check. */
function fromEnvText(spec: LeafSpec, raw: string): unknown {
  switch (spec.type) {
    case 'integer':
      return /^[+-]?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : raw;
    }
    case 'enum':
      return raw.trim().toLowerCase();
    case 'string':
      return raw;
  }
}

function shown(spec: LeafSpec, value: unknown): string {
  if (spec.type === 'string' && spec.secret) return REDACTED;
  const text = JSON.stringify(value) ?? String(value);
  return truncateValue(text);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j] ?? 0;
      row[j] = Math.min(saved + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length] ?? 0;
}

function suggestion(key: string, group: GroupSpec, prefix: string): string {
  const byEnv = LEAVES.find((l) => l.spec.env === key);
  if (byEnv) return ` (${key} is the environment variable; in a file write "${byEnv.path}")`;
  const known = Object.keys(group);
  const close = known.find((k) => k.toLowerCase() === key.toLowerCase()) ?? known.find((k) => editDistance(k, key) <= 2);
  const where = known.map((k) => (prefix ? `${prefix}.${k}` : k)).join(', ');
  return close !== undefined ? ` (did you mean "${prefix ? `${prefix}.` : ''}${close}"?)` : ` (known keys here: ${where})`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Walks a JSON-shaped layer against the schema, rejecting unknown keys and ill-typed values. */
function applyObjectLayer(
  source: string,
  input: Record<string, unknown>,
  group: GroupSpec,
  prefix: string,
  values: Map<string, string | number | boolean | undefined>,
  issues: Issue[],
): void {
  for (const [key, value] of Object.entries(input)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const node = Object.hasOwn(group, key) ? group[key] : undefined;
    if (node === undefined) {
      issues.push(issue('EDX_ERR_CONFIG_INVALID', `${source}:${path}`, `Unknown key "${path}" in ${source}${suggestion(key, group, prefix)}.`));
      continue;
    }
    if (!isLeaf(node)) {
      if (isPlainObject(value)) applyObjectLayer(source, value, node, path, values, issues);
      else issues.push(issue('EDX_ERR_CONFIG_INVALID', `${source}:${path}`, `"${path}" in ${source} must be an object (a group of settings); got ${describeType(value)}.`));
      continue;
    }
    if (value === null || value === undefined) {
      // null unsets an optional key; for the others it means "use the default".
      values.delete(path);
      continue;
    }
    const checked = checkValue(node, value);
    if (checked.ok) values.set(path, checked.value);
    else
      issues.push(
        issue(
          'EDX_ERR_CONFIG_INVALID',
          `${source}:${path}`,
          `"${path}" in ${source} must be ${expectation(node, false)}; got ${describeType(value)} ${shown(node, value)}.`,
          node.type === 'string' && node.secret ? undefined : shown(node, value),
        ),
      );
  }
}

function readJsonFile(file: string, issues: Issue[]): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    issues.push(issue('EDX_ERR_FILE_UNREADABLE', file, `The config file ${file} could not be read (${reason}).`));
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    issues.push(issue('EDX_ERR_CONFIG_INVALID', file, `The config file ${file} is not valid JSON (${reason}).`));
    return undefined;
  }
  if (!isPlainObject(parsed)) {
    issues.push(issue('EDX_ERR_CONFIG_INVALID', file, `The config file ${file} must hold a JSON object; got ${describeType(parsed)}.`));
    return undefined;
  }
  return parsed;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (isPlainObject(next)) node = next;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  node[keys[keys.length - 1] ?? path] = value;
}

/** Freezes a plain object graph so no module can change the config after start. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Reads, validates and freezes the configuration. Never throws for bad input: every fault is an
 * issue (EDX_ERR_CONFIG_INVALID, or EDX_ERR_FILE_UNREADABLE for a named file that cannot be read).
 */
export function loadConfig(options: LoadConfigOptions = {}): Result<Config> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const issues: Issue[] = [];
  const values = new Map<string, string | number | boolean | undefined>();

  let files = options.files;
  if (files === undefined) {
    const named = env[CONFIG_FILE_ENV];
    if (named !== undefined && named !== '') files = [named];
    else files = existsSync(resolve(cwd, DEFAULT_CONFIG_FILE)) ? [DEFAULT_CONFIG_FILE] : [];
  }
  for (const file of files) {
    const parsed = readJsonFile(resolve(cwd, file), issues);
    if (parsed !== undefined) applyObjectLayer(file, parsed, CONFIG_SCHEMA, '', values, issues);
  }

  for (const { path, spec } of LEAVES) {
    if (spec.env === undefined) continue;
    const raw = env[spec.env];
    if (raw === undefined || raw === '') continue;
    const checked = checkValue(spec, fromEnvText(spec, raw));
    if (checked.ok) values.set(path, checked.value);
    else
      issues.push(
        issue(
          'EDX_ERR_CONFIG_INVALID',
          `env:${spec.env}`,
          `${spec.env} (${path}) must be ${expectation(spec, true)}; got ${spec.type === 'string' && spec.secret ? REDACTED : JSON.stringify(truncateValue(raw))}.`,
          spec.type === 'string' && spec.secret ? undefined : raw,
        ),
      );
  }

  if (options.overrides !== undefined) applyObjectLayer('overrides', { ...options.overrides }, CONFIG_SCHEMA, '', values, issues);

  const config: Record<string, unknown> = {};
  for (const { path, spec } of LEAVES) {
    const value = values.has(path) ? values.get(path) : spec.default;
    setPath(config, path, value);
  }

  // Cross-key rules: checked after merging, since the two keys may come from different layers.
  const base = values.get('delivery.retryBaseMs') ?? CONFIG_SCHEMA.delivery.retryBaseMs.default;
  const max = values.get('delivery.retryMaxMs') ?? CONFIG_SCHEMA.delivery.retryMaxMs.default;
  if (typeof base === 'number' && typeof max === 'number' && base > max)
    issues.push(
      issue('EDX_ERR_CONFIG_INVALID', 'delivery.retryBaseMs', `RETRY_BASE_MS (delivery.retryBaseMs = ${base}) must not exceed RETRY_MAX_MS (delivery.retryMaxMs = ${max}).`),
    );

  if (issues.length > 0) return { ok: false, issues };

  // Resolved once, so a later chdir cannot move the database.
  setPath(config, 'store.dataDir', resolve(cwd, String(values.get('store.dataDir') ?? CONFIG_SCHEMA.store.dataDir.default)));
  // The walk above set every leaf of the schema with a value that passed its check.
  return { ok: true, value: deepFreeze(config as unknown as Config), warnings: [] };
}

/** The config with secrets masked, fit for a start-up log line or `/health`. */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { path, spec } of LEAVES) {
    let value: unknown = config;
    for (const key of path.split('.')) value = isPlainObject(value) ? value[key] : undefined;
    setPath(out, path, spec.type === 'string' && spec.secret && value !== undefined ? REDACTED : value);
  }
  return out;
}

/** One row per setting, for `edxgate help` and the README: key, env var, type, default, meaning. */
export interface ConfigReferenceRow {
  readonly key: string;
  readonly env: string | undefined;
  readonly expects: string;
  readonly default: string | number | boolean | undefined;
  readonly doc: string;
}

/** The reference table of every setting, generated from the schema. */
export function configReference(): readonly ConfigReferenceRow[] {
  return LEAVES.map(({ path, spec }) => ({
    key: path,
    env: spec.env,
    expects: expectation(spec, true),
    default: spec.default,
    doc: spec.doc,
  }));
}
