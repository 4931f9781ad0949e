#!/usr/bin/env node
// The `scopegate` operator CLI. It runs the TypeScript sources through tsx (installed by
// `npm ci`), so a checkout needs no build step.
const { register } = require('tsx/cjs/api');

register();
require('../cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
