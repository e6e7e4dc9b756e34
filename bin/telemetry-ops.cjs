#!/usr/bin/env node
// Launcher for `npx telemetry-ops`: runs the TypeScript entry through tsx, so there is no build step to forget.
require('tsx/cjs/api').register();
require('./ops.ts');
