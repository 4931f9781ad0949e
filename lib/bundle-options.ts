/**
 * How the Lambda functions are bundled. `scripts/build.ts` bundles each function of
 * {@link FUNCTION_ENTRIES} once, into {@link BUNDLES_DIR}; the constructs deploy those files
 * (and ship them in the package), the sandbox and the benchmarks run them.
 */

/** esbuild target of the deployed runtime (Node.js 24). */
export const BUNDLE_TARGET = 'node24';

/** Left to the Lambda runtime, which ships the AWS SDK v3. */
export const BUNDLE_EXTERNALS = ['@aws-sdk/*'];

/** Some CommonJS dependencies call require(); the ESM bundle gets one. */
export const BUNDLE_BANNER =
  "import { createRequire as __scopegateRequire } from 'node:module'; const require = __scopegateRequire(import.meta.url);";

/** Each Lambda function's handler module, relative to the repository root; the key names its bundle's folder. */
export const FUNCTION_ENTRIES = {
  authorizer: 'functions/authorizer/handler.ts',
  'rotation-checker': 'functions/rotation-checker/handler.ts',
} as const;

/** The name of a bundled function (its folder below {@link BUNDLES_DIR}). */
export type FunctionName = keyof typeof FUNCTION_ENTRIES;

/** Where the bundles are, relative to the package root: `<BUNDLES_DIR>/<name>/index.mjs`, with `index.mjs.map` beside it. */
export const BUNDLES_DIR = 'dist/bundles';

/** The bundle's file in its folder; the handler is its `handler` export (`index.handler`). */
export const BUNDLE_FILE = 'index.mjs';
