// The config module: one schema (schema.ts) and its loader (load.ts).
export { CONFIG_SCHEMA, LOG_LEVELS } from './schema.ts';
export type { Config, ConfigInput } from './schema.ts';
export { CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE, configReference, deepFreeze, loadConfig, redactConfig } from './load.ts';
export type { ConfigReferenceRow, LoadConfigOptions } from './load.ts';
