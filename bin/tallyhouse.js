#!/usr/bin/env node
// The `tallyhouse` command: runs the TypeScript CLI (src/cli/main.ts) through tsx, so
// `npx tallyhouse …` works after `npm install` without a build step. The child gets this
// process's stdio; its exit code (or the signal that ended it) becomes ours.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
// Resolve tsx from this package, not from the caller's working directory.
const tsx = import.meta.resolve('tsx');

const child = spawn(process.execPath, ['--import', tsx, main, ...process.argv.slice(2)], {
  stdio: 'inherit',
  // chDB queries run on libuv worker threads; see src/cli/threadpool.ts.
  env: { UV_THREADPOOL_SIZE: '16', ...process.env },
});

// Ctrl-C in a terminal reaches the whole process group (the child too); a `kill <pid>` or a
// container stop reaches only us. Relay each signal once; the child decides how to stop.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
for (const sig of SIGNALS) {
  process.on(sig, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  });
}

child.on('error', (e) => {
  console.error(`tallyhouse: could not start node: ${e.message}`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  if (signal) {
    // Die of the same signal so callers see what happened (shells report 128 + n).
    for (const sig of SIGNALS) process.removeAllListeners(sig);
    process.kill(process.pid, signal);
    // Only reached if the signal did not end us (e.g. ignored by the parent's setup).
    setTimeout(() => process.exit(128 + (os.constants.signals[signal] ?? 0)), 100);
    return;
  }
  process.exit(code ?? 1);
});
