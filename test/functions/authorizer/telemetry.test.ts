import type { Context } from 'aws-lambda';
import { lambdaTelemetry, withLambdaContext } from '../../../functions/authorizer/telemetry';

/** The JSON lines written to stdout while `run` runs. */
async function linesOf(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.startsWith('{"level"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const context = {
  awsRequestId: 'request-7',
  functionName: 'scopegate-authorizer',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:scopegate-authorizer',
  memoryLimitInMB: '256',
} as Context;

describe('telemetry', () => {
  it('writes the Lambda context in the lines of a logger made during the invocation (the runtime makes it while its key fetch waits)', async () => {
    const lines = await linesOf(() =>
      withLambdaContext(async () => {
        lambdaTelemetry('late-logger-test').decision({ reason: 'allow', effect: 'allow', method: 'GET', path: '/x', latencyMs: 1 });
      })({}, context),
    );
    expect(lines).toEqual([
      expect.objectContaining({ message: 'decision', function_request_id: 'request-7', function_name: 'scopegate-authorizer' }),
    ]);
  });
});
