// The Dockerfile, checked without a Docker engine (none runs where the tests do): every path it copies
// from the build context exists and is not excluded by .dockerignore; what it copies from the build
// stage is what that stage compiles; the runtime stage installs production dependencies only, runs
// as a non-root user, keeps DATA_DIR on a volume, asks /health in its HEALTHCHECK (which is run here
// against a stand-in server) and starts exactly what `npm start` starts.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import t from 'tap';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');
const inRepo = (path: string): boolean => existsSync(new URL(path, ROOT));
const isDir = (path: string): boolean => statSync(new URL(path, ROOT)).isDirectory();

// ---- Dockerfile parsing (the subset of the syntax a Dockerfile uses: no heredocs, no wildcards) ----

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    // Comment lines (parser directives included) are dropped, even inside a continuation.
    if (/^\s*#/.test(line)) return;
    if (pending === '' && line.trim() === '') return;
    if (pending === '') startLine = index + 1;
    if (/\\\s*$/.test(line)) {
      pending += line.replace(/\\\s*$/, '');
      return;
    }
    pending += line;
    const match = /^\s*(\S+)\s*(.*)$/s.exec(pending);
    if (match !== null) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: startLine });
    pending = '';
  });
  const stages: { base: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ base: words[0] ?? '', name: as >= 0 ? words[as + 1] : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** The JSON (exec) form of CMD, ENTRYPOINT or HEALTHCHECK CMD, or undefined for the shell form. */
function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Leading `--name=value` flags and the words after them. */
function flagsAndWords(args: string): { flags: Map<string, string>; words: string[] } {
  const flags = new Map<string, string>();
  const words = execForm(args) ?? args.split(/\s+/).filter((w) => w !== '');
  while (words[0]?.startsWith('--') === true) {
    const [name, ...value] = words.shift()!.slice(2).split('=');
    flags.set(name!, value.join('='));
  }
  return { flags, words };
}

/** `$NAME` and `${NAME}` replaced from the stage's ENV so far (what Docker does in most instructions). */
function expand(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$(?:\{(\w+)\}|(\w+))/g, (whole, a: string | undefined, b: string | undefined) => env.get(a ?? b ?? '') ?? whole);
}

/** ENV's `key=value ...` (or legacy `key value`) pairs; values may be double-quoted. */
function envPairs(args: string): [string, string][] {
  const tokens = args.match(/(?:[^\s"]+|"(?:[^"\\]|\\.)*")+/g) ?? [];
  if (tokens.length > 0 && !tokens[0]!.includes('=')) return [[tokens[0]!, args.slice(tokens[0]!.length).trim()]];
  return tokens.map((token) => {
    const at = token.indexOf('=');
    return [token.slice(0, at), token.slice(at + 1).replace(/^"(.*)"$/s, '$1')];
  });
}

/** One COPY, its destination resolved against the WORKDIR in force. */
interface Copy {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  /** Absolute; a trailing slash kept (it means "into this folder"). */
  readonly dest: string;
  readonly index: number;
  readonly line: number;
}

/** What one stage does, in order: its WORKDIR, ENV, COPYs and RUNs. */
interface StageModel {
  readonly workdir: string;
  readonly env: ReadonlyMap<string, string>;
  readonly copies: readonly Copy[];
  readonly runs: readonly { readonly command: string; readonly index: number }[];
  readonly last: (keyword: string) => Instruction | undefined;
}

function model(stage: Stage): StageModel {
  let workdir = '/';
  const env = new Map<string, string>();
  const copies: Copy[] = [];
  const runs: { command: string; index: number }[] = [];
  stage.instructions.forEach((instruction, index) => {
    const args = expand(instruction.args, env);
    if (instruction.keyword === 'WORKDIR') workdir = posix.resolve(workdir, args);
    if (instruction.keyword === 'ENV') for (const [key, value] of envPairs(args)) env.set(key, value);
    if (instruction.keyword === 'RUN') runs.push({ command: args, index });
    if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
      const { flags, words } = flagsAndWords(args);
      const dest = words.pop() ?? '';
      const resolved = posix.resolve(workdir, dest) + (dest.endsWith('/') || dest === '.' ? '/' : '');
      copies.push({ from: flags.get('from'), sources: words, dest: resolved, index, line: instruction.line });
    }
  });
  const last = (keyword: string): Instruction | undefined => stage.instructions.filter((i) => i.keyword === keyword).at(-1);
  return { workdir, env, copies, runs, last };
}

/** Where a source lands: a folder's contents at the destination, a file at or into it. */
function landing(copy: Copy, source: string, sourceIsDir: boolean): string {
  if (sourceIsDir) return copy.dest.replace(/\/$/, '') || '/';
  return copy.dest.endsWith('/') || copy.sources.length > 1 ? posix.join(copy.dest, posix.basename(source)) : copy.dest;
}

/** The repository path a context COPY (before instruction `before`) puts at `imagePath`, if any. */
function fromContext(stage: StageModel, imagePath: string, before = Infinity): string | undefined {
  for (const copy of stage.copies) {
    if (copy.from !== undefined || copy.index >= before) continue;
    for (const source of copy.sources) {
      const clean = posix.normalize(source).replace(/\/$/, '');
      if (!inRepo(clean)) continue;
      const dir = isDir(clean);
      const target = landing(copy, clean, dir);
      if (imagePath === target) return clean;
      if (dir && imagePath.startsWith(`${target}/`)) return posix.join(clean, posix.relative(target, imagePath));
    }
  }
  return undefined;
}

/** .dockerignore as Docker reads it: glob patterns, `!` re-includes, the last match wins, a folder's match covers its contents. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).trim().replace(/^\/+/, '')).replace(/\/$/, '');
      const regex = pattern
        .split(/(\*\*\/?|\*|\?)/)
        .map((part) => (part.startsWith('**') ? '(?:.*/)?' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return { negate, regex: new RegExp(`^${regex}$`) };
    });
  return (path) => {
    const parts = posix.normalize(path).split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (prefixes.some((p) => rule.regex.test(p))) ignored = !rule.negate;
    return ignored;
  };
}

/** tsconfig.json files are plain JSON here; `extends` is followed, later files override. */
function tsconfig(path: string): { outDir: string; rootDir: string; include: string[]; files: string[] } {
  const config = JSON.parse(read(path)) as { extends?: string; include?: string[]; compilerOptions?: { outDir?: string; rootDir?: string } };
  const base = config.extends === undefined ? { outDir: '', rootDir: '', include: [], files: [path] } : tsconfig(posix.join(posix.dirname(path), config.extends));
  const here = (p: string | undefined, fallback: string): string => (p === undefined ? fallback : posix.join(posix.dirname(path), p));
  return {
    outDir: here(config.compilerOptions?.outDir, base.outDir),
    rootDir: here(config.compilerOptions?.rootDir, base.rootDir),
    include: config.include ?? base.include,
    files: [path, ...(config.extends === undefined ? [] : base.files)],
  };
}

// ---- the checks ----

const pkg = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  type?: string;
};
const stages = parseDockerfile(read('Dockerfile'));
const names = new Map(stages.map((s, i) => [s.name, i] as const));
const runtime = stages.at(-1)!;
const final = model(runtime);
const startArgv = pkg.scripts.start!.trim().split(/\s+/);

t.test('multi-stage on the official Node image, the major version pinned and allowed by engines', async (t) => {
  t.ok(stages.length >= 2, 'a build stage and a runtime stage');
  const engineMajor = Number(/(\d+)/.exec(pkg.engines.node)?.[1]);
  for (const stage of stages) {
    if (names.has(stage.base)) continue; // FROM an earlier stage
    const match = /^node:(\d+)(?:\.\d+){0,2}-bookworm-slim(?:@sha256:[0-9a-f]{64})?$/.exec(stage.base);
    t.ok(match, `${stage.base} is node:<major>-bookworm-slim`);
    t.ok(Number(match?.[1]) >= engineMajor, `${stage.base} satisfies engines.node ${pkg.engines.node}`);
  }
});

t.test('every path copied from the build context exists and is not excluded by .dockerignore', async (t) => {
  t.ok(inRepo('.dockerignore'), '.dockerignore exists');
  const ignored = dockerignore(inRepo('.dockerignore') ? read('.dockerignore') : '');
  // A local data folder holds demo tokens and the embedded database; node_modules is the host's.
  for (const path of ['data', 'node_modules', 'dist', '.git']) t.ok(ignored(path), `.dockerignore excludes ${path}`);
  let count = 0;
  for (const stage of stages) {
    for (const copy of model(stage).copies) {
      if (copy.from !== undefined) continue;
      for (const source of copy.sources) {
        count++;
        t.notMatch(source, /[*?[]/, `line ${copy.line}: ${source} has no wildcard (this test does not expand them)`);
        t.ok(inRepo(source), `line ${copy.line}: ${source} exists`);
        t.notOk(ignored(source), `line ${copy.line}: ${source} is not excluded by .dockerignore`);
      }
    }
  }
  t.ok(count > 0, 'the Dockerfile copies something from the context');
});

t.test('the build stage has what `npm run build` needs, and what is copied from it is what it builds', async (t) => {
  const build = /^\s*tsc\s+(?:-p|--project)\s+(\S+)\s*$/.exec(pkg.scripts.build ?? '');
  t.ok(build, `scripts.build is \`tsc -p <tsconfig>\` (${pkg.scripts.build})`);
  const project = tsconfig(build?.[1] ?? 'tsconfig.build.json');
  let fromCopies = 0;
  for (const stage of stages) {
    for (const copy of model(stage).copies) {
      if (copy.from === undefined) continue;
      fromCopies++;
      const at = names.get(copy.from);
      t.ok(at !== undefined && at < stages.indexOf(stage), `line ${copy.line}: --from=${copy.from} names an earlier stage`);
      const source = model(stages[at ?? 0]!);
      const built = source.runs.find((r) => /\bnpm run build\b/.test(r.command));
      t.ok(built, `stage ${copy.from} runs \`npm run build\``);
      const outDir = posix.resolve(source.workdir, project.outDir);
      for (const path of copy.sources) t.equal(posix.resolve(source.workdir, path), outDir, `line ${copy.line}: ${path} is the build's outDir`);
      // Everything the compiler reads must be in that stage before it runs.
      const before = built?.index ?? 0;
      for (const file of [...project.files, 'package.json', 'package-lock.json'])
        t.equal(fromContext(source, posix.resolve(source.workdir, file), before), file, `stage ${copy.from} has ${file} before the build`);
      for (const folder of project.include) t.equal(fromContext(source, posix.resolve(source.workdir, folder), before), folder, `stage ${copy.from} has ${folder}/ before the build`);
      const install = source.runs.find((r) => /\bnpm ci\b/.test(r.command));
      t.ok(install !== undefined && install.index < before, `stage ${copy.from} installs the dependencies before the build`);
      t.notMatch(install?.command ?? '', /--omit=dev|--production/, `stage ${copy.from} installs the devDependencies (typescript)`);
    }
  }
  t.ok(fromCopies > 0, 'the runtime stage copies the compiled tree from the build stage');
});

t.test('the runtime stage installs production dependencies only', async (t) => {
  const installs = final.runs.filter((r) => /\bnpm\s+(ci|install|i)\b/.test(r.command));
  t.equal(installs.length, 1, 'one npm install');
  t.match(installs[0]?.command ?? '', /\bnpm ci\b[^&;|]*--omit=dev/, '`npm ci --omit=dev`');
  for (const file of ['package.json', 'package-lock.json'])
    t.equal(fromContext(final, posix.join(final.workdir, file), installs[0]?.index), file, `${file} is in ${final.workdir} before the install`);
  t.notOk('tsx' in pkg.dependencies, 'tsx is a devDependency: the image runs the compiled tree');
  t.notOk(
    final.copies.some((c) => c.from === undefined && c.sources.some((s) => posix.normalize(s).replace(/\/$/, '') === 'src')),
    'the runtime stage does not copy src/',
  );
});

t.test('the command is the start script, and the files it needs are in the image', async (t) => {
  const entrypoint = final.last('ENTRYPOINT');
  const cmd = final.last('CMD');
  const entry = entrypoint === undefined ? [] : execForm(entrypoint.args);
  const command = cmd === undefined ? undefined : execForm(cmd.args);
  t.ok(entry, 'ENTRYPOINT, if any, is in exec form');
  t.ok(command, 'CMD is in exec form (node is PID 1 and receives SIGTERM)');
  // Without an ENTRYPOINT of its own the official image's docker-entrypoint.sh runs `exec "$@"`.
  t.same([...(entry ?? []), ...(command ?? [])], startArgv, `the image runs \`${pkg.scripts.start}\``);

  t.equal(pkg.type, 'module', 'package.json says ESM (bin/edxgate.js is a module)');
  t.equal(fromContext(final, posix.join(final.workdir, 'package.json')), 'package.json', 'package.json is in the working directory');
  const script = startArgv.find((a) => a.endsWith('.js'))!;
  const scriptInImage = posix.join(final.workdir, script);
  t.equal(fromContext(final, scriptInImage), script, `${script} is at ${scriptInImage}`);

  // bin/edxgate.js runs ../dist/<rootDir-relative path>.js when there is no tsx; that file must be in
  // what the runtime stage copies from the build stage, at the place tsc writes it.
  const bin = read(script);
  const compiled = /new URL\('(\.\.\/[^']+\.js)'/.exec(bin)?.[1];
  const source = /new URL\('(\.\.\/[^']+\.ts)'/.exec(bin)?.[1];
  t.ok(compiled !== undefined && source !== undefined, `${script} names its source and compiled entries`);
  const sourceInRepo = posix.join(posix.dirname(script), source ?? '');
  t.ok(inRepo(sourceInRepo), `${sourceInRepo} exists`);
  const project = tsconfig(/(?:-p|--project)\s+(\S+)/.exec(pkg.scripts.build ?? '')?.[1] ?? 'tsconfig.build.json');
  t.ok(project.include.some((folder) => sourceInRepo.startsWith(`${posix.normalize(folder)}/`)), `the build compiles ${sourceInRepo}`);
  const emitted = posix.join(project.outDir, posix.relative(project.rootDir, sourceInRepo)).replace(/\.ts$/, '.js');
  t.equal(posix.join(posix.dirname(script), compiled ?? ''), emitted, `${script} loads ${emitted}, where tsc writes ${sourceInRepo}`);
  const compiledInImage = posix.join(posix.dirname(scriptInImage), compiled ?? '');
  const dist = final.copies.find((c) => c.from !== undefined && (compiledInImage === c.dest || compiledInImage.startsWith(`${c.dest.replace(/\/$/, '')}/`)));
  t.ok(dist, `${compiledInImage} comes from the build stage`);
  if (dist !== undefined) {
    // The same file seen from the build stage: the copied folder plus the path under it, against
    // where tsc writes it (outDir in that stage's working directory).
    const buildDir = model(stages[names.get(dist.from)!]!).workdir;
    const copied = posix.join(posix.resolve(buildDir, dist.sources[0] ?? ''), posix.relative(dist.dest, compiledInImage));
    t.equal(copied, posix.resolve(buildDir, emitted), `it is ${emitted} of stage ${dist.from}`);
  }
});

t.test('it listens on every interface, on the exposed port', async (t) => {
  t.equal(final.env.get('HOST'), '0.0.0.0', 'HOST=0.0.0.0 (the 127.0.0.1 default is for a bare `npm start`)');
  const port = final.env.get('PORT') ?? '8080';
  const exposed = (final.last('EXPOSE')?.args ?? '').split(/\s+/).map((p) => p.replace(/\/tcp$/, ''));
  t.ok(exposed.includes(port), `EXPOSE ${port}`);
});

t.test('the data folder is a volume, writable by the non-root user', async (t) => {
  const dataDir = final.env.get('DATA_DIR');
  t.ok(dataDir !== undefined && posix.isAbsolute(dataDir), `DATA_DIR is an absolute path (${dataDir})`);
  const volumes = runtime.instructions
    .filter((i) => i.keyword === 'VOLUME')
    .flatMap((i) => execForm(expand(i.args, final.env)) ?? expand(i.args, final.env).split(/\s+/));
  t.ok(volumes.map((v) => posix.normalize(v).replace(/\/$/, '')).includes(dataDir ?? ''), `VOLUME ${dataDir}`);

  const user = final.last('USER')?.args.trim() ?? '';
  t.ok(user !== '', 'the runtime stage sets USER');
  t.notMatch(user, /^(root|0)(:|$)/, `USER ${user} is not root`);
  const volumeAt = runtime.instructions.findIndex((i) => i.keyword === 'VOLUME');
  const chowned = final.runs.some((r) => r.index < volumeAt && r.command.includes(dataDir ?? '\0') && new RegExp(`chown\\s+(-\\S+\\s+)*${user.split(':')[0]}\\b`).test(r.command));
  t.ok(chowned, `${dataDir} is made ${user}'s before VOLUME (a new volume takes the image's ownership)`);
});

t.test('the HEALTHCHECK asks /health with node, and fails when the answer is not 2xx', async (t) => {
  const instruction = final.last('HEALTHCHECK');
  t.ok(instruction, 'the runtime stage has a HEALTHCHECK');
  const { flags, words } = flagsAndWords(instruction?.args ?? '');
  t.equal(words[0]?.toUpperCase(), 'CMD', 'HEALTHCHECK CMD (not NONE)');
  const rest = (instruction?.args ?? '').slice((instruction?.args ?? '').search(/\bCMD\b/i) + 3).trim();
  const argv = execForm(rest);
  t.ok(argv, 'in exec form');
  t.equal(argv?.[0], 'node', 'run by node (the slim image has no curl or wget)');
  t.match(rest, /\/health\b/, 'it asks /health');
  t.ok(Number.parseInt(flags.get('timeout') ?? '30', 10) > 0, 'a timeout');
  if (argv === undefined) return;

  // Run it as the container would, its PORT pointing at a stand-in gateway.
  const status = { code: 200 };
  const server = createServer((request, response) => {
    response.statusCode = request.url === '/health' ? status.code : 404;
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const run = (): Promise<number> =>
    new Promise((resolve) => {
      const env = { PATH: process.env.PATH ?? '', ...Object.fromEntries(final.env), PORT: String(port) };
      execFile(process.execPath, argv.slice(1), { env, timeout: 15_000 }, (error) => {
        resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : -1);
      });
    });
  try {
    t.equal(await run(), 0, '200 from /health: healthy');
    status.code = 503;
    t.not(await run(), 0, '503 from /health: unhealthy');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  t.not(await run(), 0, 'nothing listening: unhealthy');
});
