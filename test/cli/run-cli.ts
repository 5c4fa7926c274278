// Runs the real `edxgate` executable (bin/edxgate.js) in a child process, as a user would.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root, the child's working directory. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/edxgate.js', import.meta.url));

/** What the child printed and how it exited. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node bin/edxgate.js ...args` from the repository root; never rejects on a non-zero exit.
 * `env` is laid over this process's environment (an empty string unsets a gateway setting).
 */
export function runCli(args: readonly string[], cwd: string = REPO_ROOT, env: Readonly<Record<string, string>> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const code: unknown = error?.code;
        // A numeric code is the child's exit status; anything else (ENOENT, a signal) is a failure to run.
        if (error && typeof code !== 'number') reject(error);
        else resolve({ code: typeof code === 'number' ? code : 0, stdout, stderr });
      },
    );
  });
}
