// The entry of a gateway run as a child process by tests and benchmarks: exactly what `edxgate serve`
// does (config from the environment, migrations, listen, graceful shutdown on SIGTERM), without going
// through the CLI dispatcher. It prints `edxgate: listening on URL (...)`, which the parent waits for.

import { serve } from '../../../src/main.ts';

process.exitCode = await serve(process.argv.slice(2));
