/**
 * Jest runs the TypeScript sources through ts-jest in transpile-only mode:
 * type errors are caught by `npm run typecheck` (tsc), which .ci/run runs before the tests.
 * The global setup builds the Lambda bundles first (scripts/build.ts), which the constructs
 * deploy and the package ships.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testMatch: ['**/*.test.ts'],
  // The examples import the package by its name, as a user's app does: here, its sources (tsconfig.json's `paths`).
  moduleNameMapper: { '^scopegate$': '<rootDir>/lib/index.ts' },
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        isolatedModules: true,
        tsconfig: { module: 'commonjs', verbatimModuleSyntax: false, esModuleInterop: true },
      },
    ],
  },
  testTimeout: 30000,
};
