// Started as a fresh process: import a bundled handler, make one decision, print the time
// from process start to that decision (ms). argv: bundle path, token, method ARN.
const [, , bundle, token, methodArn] = process.argv;
const { handler } = await import(bundle);
const result = await handler({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn });
const ms = performance.now();
process.stdout.write(`${JSON.stringify({ ms, principalId: result.principalId })}\n`);
