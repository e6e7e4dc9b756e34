#!/usr/bin/env node
// Launcher for `npx telemetry-ops`: runs the TypeScript entry through tsx, so there is no build step to forget.
// tsx's loader, as `node --import tsx` loads it: its `require` hook runs the entry, its `import()` hook the command
// modules each command loads when it runs.
import('tsx').then(
  () => require('./ops.ts'),
  (error) => {
    process.stderr.write(`telemetry-ops: cannot load tsx (run \`npm ci\` first): ${error.message}\n`);
    process.exitCode = 2;
  },
);
