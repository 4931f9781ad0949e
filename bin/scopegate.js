#!/usr/bin/env node
// The `scopegate` operator CLI. Installed from the package, it runs the compiled CLI
// (dist/cli, built at pack time). In a checkout of the repository, where the TypeScript
// sources are, it runs them through tsx (installed by `npm ci`), so no build step is needed.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const sources = join(__dirname, '..', 'cli', 'main.ts');
let cli;
if (existsSync(sources)) {
  require('tsx/cjs/api').register();
  cli = require(sources);
} else {
  cli = require('../dist/cli/main.js');
}
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
