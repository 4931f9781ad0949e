/**
 * How the Lambda functions are bundled, shared by the CDK constructs, the sandbox and the
 * benchmarks, so that all three run the same bundle.
 */

/** esbuild target of the deployed runtime (Node.js 24). */
export const BUNDLE_TARGET = 'node24';

/** Left to the Lambda runtime, which ships the AWS SDK v3. */
export const BUNDLE_EXTERNALS = ['@aws-sdk/*'];

/** Some CommonJS dependencies call require(); the ESM bundle gets one. */
export const BUNDLE_BANNER =
  "import { createRequire as __scopegateRequire } from 'node:module'; const require = __scopegateRequire(import.meta.url);";
