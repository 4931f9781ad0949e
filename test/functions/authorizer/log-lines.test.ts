/**
 * The authorizer's own log and EMF lines against Powertools Logger and Metrics as the oracle:
 * the telemetry the authorizer had before (Powertools, below as it was) and the one it has now
 * run the same script, under the same environment and the same clock, and must write the
 * same bytes to the same streams.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { Dimension, METRIC_NAMESPACE, MetricName } from '../../../core/metrics';
import type { DecisionRecord } from '../../../functions/authorizer/authorize';
import { lambdaTelemetry, type Telemetry, withLambdaContext, wouldDeny } from '../../../functions/authorizer/telemetry';

// The oracle: the authorizer's Powertools telemetry as it was (functions/authorizer/telemetry.ts before this module).
const oracleLoggers = new Set<Logger>();
let oracleContext: Context | undefined;
function powertoolsTelemetry(serviceName: string): Telemetry {
  const logger = new Logger({ serviceName });
  oracleLoggers.add(logger);
  if (oracleContext !== undefined) logger.addContext(oracleContext);
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName });
  return {
    decision(record) {
      const level = record.effect === 'error' ? 'error' : record.effect === 'unauthorized' ? 'warn' : 'info';
      logger[level]('decision', record as unknown as Record<string, unknown>);
      metrics.addDimension(Dimension.Reason, record.reason);
      metrics.addMetric(MetricName.Decisions, MetricUnit.Count, 1);
      metrics.addMetric(MetricName.AuthorizerLatency, MetricUnit.Milliseconds, record.latencyMs);
      if (wouldDeny(record)) metrics.addMetric(MetricName.WouldDeny, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    },
    jwksFetch(event) {
      const level = event.ok ? 'info' : 'error';
      logger[level]('jwks_fetch', {
        jwksUri: event.jwksUri,
        ok: event.ok,
        ms: event.ms,
        error: event.error ? String(event.error) : undefined,
      });
      const single = metrics.singleMetric();
      single.addDimension(Dimension.Outcome, event.ok ? 'ok' : 'failed');
      single.addMetric(MetricName.JwksFetches, MetricUnit.Count, 1);
    },
    warn(message, extra) {
      logger.warn(message, extra ?? {});
    },
  };
}
function powertoolsWithLambdaContext<E, R>(handler: (event: E) => Promise<R>): (event: E, context?: Context) => Promise<R> {
  return (event, context) => {
    if (context !== undefined) {
      oracleContext = context;
      for (const logger of oracleLoggers) logger.addContext(context);
    }
    return handler(event);
  };
}

interface Implementation {
  make(serviceName: string): Telemetry;
  withContext: typeof withLambdaContext;
}
const powertools: Implementation = { make: powertoolsTelemetry, withContext: powertoolsWithLambdaContext };
const ours: Implementation = { make: lambdaTelemetry, withContext: withLambdaContext };

const context = (requestId: string) =>
  ({
    awsRequestId: requestId,
    functionName: 'scopegate-authorizer',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:scopegate-authorizer',
    memoryLimitInMB: '256',
  }) as Context;

const base = { method: 'GET', path: '/orders/7', issuer: 'https://idp.example.com/', kid: 'k1', alg: 'RS256' } as const;
const firstInvocation: DecisionRecord[] = [
  {
    ...base,
    reason: 'allow',
    effect: 'allow',
    route: 'GET /orders/{id}',
    sub: 'u1',
    clientId: 'c1',
    scopeClaim: 'scope',
    enforced: true,
    policyBytes: 546,
    latencyMs: 0.173,
  },
  {
    ...base,
    reason: 'insufficient_scope',
    effect: 'deny',
    route: 'GET /orders/{id}',
    sub: 'u1',
    missingScopes: ['orders:read', 'orders:list'],
    enforced: true,
    policyBytes: 0,
    latencyMs: 1,
  },
  {
    ...base,
    reason: 'insufficient_scope',
    effect: 'allow',
    missingAnyOf: [['a:read'], ['b:read', 'c:read']],
    enforced: false,
    latencyMs: 2.5,
  },
];
const secondInvocation: DecisionRecord[] = [
  {
    reason: 'invalid_token.expired',
    effect: 'unauthorized',
    method: 'GET',
    path: '/x',
    sub: '',
    detail: 'exp 1796300000 is past',
    latencyMs: 0.05,
  },
  { reason: 'keys_unavailable', effect: 'error', method: 'POST', path: '/y', policyInexact: ['POST /y'], latencyMs: 3000 },
  { ...base, reason: 'no_route', effect: 'deny', enforced: false, latencyMs: 0.2 },
];

/**
 * The script: telemetry made before the first invocation (`late`: during it, as the runtime
 * does while its key fetch waits), a warning before any context, two invocations of decisions
 * of every effect, a key fetch that worked and one that failed.
 */
async function script(impl: Implementation, late: boolean): Promise<void> {
  let telemetry = late ? undefined : impl.make('scopegate-authorizer');
  telemetry?.warn('config_warning', { warning: 'issuer https://idp.example.com/ has no audience' });
  const handler = impl.withContext(async (records: DecisionRecord[]) => {
    telemetry ??= impl.make('scopegate-authorizer');
    for (const record of records) telemetry.decision(record);
  });
  await handler(firstInvocation, context('request-1'));
  telemetry?.jwksFetch({ jwksUri: 'https://idp.example.com/jwks', ok: true, ms: 41 });
  telemetry?.jwksFetch({ jwksUri: 'https://idp.example.com/jwks', ok: false, ms: 3000, error: new Error('timeout after 3000 ms') });
  await handler(secondInvocation, context('request-2'));
  telemetry?.warn('config_warning', { warning: 'second', count: 2 });
}

/** What `run` writes: each write as `stream: text`, stdout, stderr and the global console alike. */
async function written(run: () => Promise<void>): Promise<string[]> {
  const writes: string[] = [];
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => writes.push(`stdout: ${String(chunk)}`) > 0),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => writes.push(`stderr: ${String(chunk)}`) > 0),
    ...(['log', 'debug', 'info', 'warn', 'error'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        writes.push(`console.${method}: ${args.map(String).join(' ')}`);
      }),
    ),
  ];
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return writes;
}

const ENV_KEYS = [
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_LEVEL',
  'POWERTOOLS_LOG_LEVEL',
  'LOG_LEVEL',
  'POWERTOOLS_LOGGER_SAMPLE_RATE',
  'POWERTOOLS_DEV',
  'POWERTOOLS_METRICS_DISABLED',
  'POWERTOOLS_SERVICE_NAME',
  '_X_AMZN_TRACE_ID',
  'TZ',
];
const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

/** Both implementations' writes for the script under `env`, at the same instant. */
async function both(env: Record<string, string>, late = false): Promise<{ expected: string[]; actual: string[] }> {
  for (const key of ENV_KEYS) delete process.env[key];
  Object.assign(process.env, env);
  try {
    jest.setSystemTime(new Date('2026-12-03T13:45:07.089Z'));
    const expected = await written(() => script(powertools, late));
    jest.setSystemTime(new Date('2026-12-03T13:45:07.089Z'));
    const actual = await written(() => script(ours, late));
    return { expected, actual };
  } finally {
    for (const key of ENV_KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

const lambda = { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' };
const cases: [string, Record<string, string>][] = [
  ['no environment (outside Lambda: cold_start false)', {}],
  ['on-demand: cold_start true on the first invocation only', lambda],
  ['provisioned concurrency: cold_start false', { AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' }],
  ['POWERTOOLS_LOG_LEVEL=WARN', { ...lambda, POWERTOOLS_LOG_LEVEL: 'WARN' }],
  ['POWERTOOLS_LOG_LEVEL=ERROR', { ...lambda, POWERTOOLS_LOG_LEVEL: 'ERROR' }],
  ['POWERTOOLS_LOG_LEVEL=DEBUG', { ...lambda, POWERTOOLS_LOG_LEVEL: 'DEBUG' }],
  ['POWERTOOLS_LOG_LEVEL=CRITICAL', { ...lambda, POWERTOOLS_LOG_LEVEL: 'CRITICAL' }],
  ['POWERTOOLS_LOG_LEVEL=SILENT', { ...lambda, POWERTOOLS_LOG_LEVEL: 'SILENT' }],
  ['POWERTOOLS_LOG_LEVEL in lower case (ignored)', { ...lambda, POWERTOOLS_LOG_LEVEL: 'error' }],
  ['POWERTOOLS_LOG_LEVEL padded', { ...lambda, POWERTOOLS_LOG_LEVEL: ' ERROR ' }],
  ['LOG_LEVEL=ERROR', { ...lambda, LOG_LEVEL: 'ERROR' }],
  ['an invalid POWERTOOLS_LOG_LEVEL hides LOG_LEVEL', { ...lambda, POWERTOOLS_LOG_LEVEL: 'LOUD', LOG_LEVEL: 'ERROR' }],
  ['AWS_LAMBDA_LOG_LEVEL=WARN', { ...lambda, AWS_LAMBDA_LOG_LEVEL: 'WARN' }],
  ['AWS_LAMBDA_LOG_LEVEL=FATAL', { ...lambda, AWS_LAMBDA_LOG_LEVEL: 'FATAL' }],
  ['AWS_LAMBDA_LOG_LEVEL wins over POWERTOOLS_LOG_LEVEL', { ...lambda, AWS_LAMBDA_LOG_LEVEL: 'ERROR', POWERTOOLS_LOG_LEVEL: 'DEBUG' }],
  [
    'AWS_LAMBDA_LOG_LEVEL=DEBUG under POWERTOOLS_LOG_LEVEL=ERROR',
    { ...lambda, AWS_LAMBDA_LOG_LEVEL: 'DEBUG', POWERTOOLS_LOG_LEVEL: 'ERROR' },
  ],
  ['sample rate 1: DEBUG and its line', { ...lambda, POWERTOOLS_LOGGER_SAMPLE_RATE: '1' }],
  [
    'sample rate 1 under AWS_LAMBDA_LOG_LEVEL=INFO: the warning',
    { ...lambda, POWERTOOLS_LOGGER_SAMPLE_RATE: '1', AWS_LAMBDA_LOG_LEVEL: 'INFO' },
  ],
  ['sample rate 1 under AWS_LAMBDA_LOG_LEVEL=DEBUG', { ...lambda, POWERTOOLS_LOGGER_SAMPLE_RATE: '1', AWS_LAMBDA_LOG_LEVEL: 'DEBUG' }],
  ['sample rate 1 at TRACE', { ...lambda, POWERTOOLS_LOGGER_SAMPLE_RATE: '1', POWERTOOLS_LOG_LEVEL: 'TRACE' }],
  ['sample rate 0.0', { ...lambda, POWERTOOLS_LOGGER_SAMPLE_RATE: '0.0' }],
  ['sample rate out of range', { ...lambda, POWERTOOLS_LOGGER_SAMPLE_RATE: '2' }],
  ['an X-Ray trace header', { ...lambda, _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' }],
  ['a bare trace id', { ...lambda, _X_AMZN_TRACE_ID: '1-5759e988-bd862e3fe1be46a994272793' }],
  ['TZ=:UTC (the Lambda runtime)', { ...lambda, TZ: ':UTC' }],
  ['TZ=Europe/Berlin', { ...lambda, TZ: 'Europe/Berlin' }],
  ['TZ=America/St_Johns (a negative half-hour offset)', { ...lambda, TZ: 'America/St_Johns' }],
  ['TZ unresolvable', { ...lambda, TZ: 'Nowhere/Atlantis' }],
  ['POWERTOOLS_DEV: indented, metrics off, the global console', { ...lambda, POWERTOOLS_DEV: 'true' }],
  ['POWERTOOLS_METRICS_DISABLED=1', { ...lambda, POWERTOOLS_METRICS_DISABLED: '1' }],
  ['POWERTOOLS_DEV with POWERTOOLS_METRICS_DISABLED=false', { ...lambda, POWERTOOLS_DEV: '1', POWERTOOLS_METRICS_DISABLED: 'false' }],
  ['POWERTOOLS_SERVICE_NAME (the service given wins)', { ...lambda, POWERTOOLS_SERVICE_NAME: 'other' }],
];

describe('the authorizer log and EMF lines, against Powertools as the oracle', () => {
  beforeAll(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterAll(() => jest.useRealTimers());

  // First: no invocation has set a Lambda context yet in this process.
  it('compares real lines: the decision, the EMF and the key fetch lines with the Lambda context, cold start on every line of the first invocation only', async () => {
    const { expected, actual } = await both(lambda);
    expect(actual).toEqual(expected);
    const lines = actual.map((write) => JSON.parse(write.slice(write.indexOf(': ') + 2)) as Record<string, unknown>);
    expect(lines).toHaveLength(1 + 2 * 3 + 2 * 2 + 2 * 3 + 1);
    expect(lines[0]).toEqual({
      level: 'WARN',
      message: 'config_warning',
      timestamp: '2026-12-03T13:45:07.089Z',
      service: 'scopegate-authorizer',
      sampling_rate: 0,
      warning: 'issuer https://idp.example.com/ has no audience',
    });
    expect(lines[1]).toMatchObject({ message: 'decision', cold_start: true, function_request_id: 'request-1', reason: 'allow' });
    expect(lines[2]).toEqual({
      _aws: {
        Timestamp: Date.parse('2026-12-03T13:45:07.089Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'scopegate',
            Dimensions: [['service', 'reason']],
            Metrics: [
              { Name: 'Decisions', Unit: 'Count' },
              { Name: 'AuthorizerLatency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      service: 'scopegate-authorizer',
      reason: 'allow',
      Decisions: 1,
      AuthorizerLatency: 0.173,
    });
    expect(lines.filter((line) => line.message === 'decision').map((line) => [line.function_request_id, line.cold_start])).toEqual([
      ['request-1', true],
      ['request-1', true],
      ['request-1', true],
      ['request-2', false],
      ['request-2', false],
      ['request-2', false],
    ]);
    expect(actual.filter((write) => write.startsWith('stderr'))).toHaveLength(5);
  });

  it.each(cases)('writes what Powertools writes: %s', async (_name, env) => {
    const { expected, actual } = await both(env);
    expect(actual).toEqual(expected);
  });

  it.each(cases)('writes what Powertools writes for telemetry made during the first invocation: %s', async (_name, env) => {
    const { expected, actual } = await both(env, true);
    expect(actual).toEqual(expected);
  });
});
