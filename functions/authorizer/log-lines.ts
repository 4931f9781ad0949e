/**
 * The authorizer's log and metric lines, written byte for byte as Powertools Logger and
 * Metrics 2.x write them for the calls the authorizer makes (a test holds them to Powertools
 * as the oracle), without Powertools in the bundle: a JSON log line per call with the
 * Lambda context's keys, and an EMF line per metric set. What Powertools offers beyond that
 * (child loggers, persistent keys, log buffering, correlation ids, metadata, high-resolution
 * metrics) the authorizer never used and this module does not have.
 *
 * Read from the environment when a {@link JsonLogger} or {@link EmfWriter} is made, as
 * Powertools does: `AWS_LAMBDA_LOG_LEVEL` (Lambda's log level, which wins; `FATAL` is
 * `CRITICAL`), else `POWERTOOLS_LOG_LEVEL`, else `LOG_LEVEL` (both upper case, as Powertools
 * reads them; anything else is `INFO`), `POWERTOOLS_LOGGER_SAMPLE_RATE`,
 * `AWS_LAMBDA_INITIALIZATION_TYPE` (`cold_start` is true only `on-demand`), `POWERTOOLS_DEV`
 * (indented lines through the global console, metrics off) and `POWERTOOLS_METRICS_DISABLED`.
 * Read per line: `_X_AMZN_TRACE_ID` (or the runtime's invoke store) and `TZ`.
 */
import { Console } from 'node:console';
import { randomInt } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** Log levels and their thresholds, as Powertools numbers them. */
export const LogLevel = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;

/** One of the {@link LogLevel} names. */
export type LogLevelName = keyof typeof LogLevel;

/** What a log line may carry besides its own keys: JSON values only, so a line always serializes as is. */
export type LogValue = string | number | boolean | undefined | readonly string[] | readonly (readonly string[])[];

/** The keys Powertools keeps for itself: an attribute so named is dropped, with a warning line. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);
const TRUTHY: ReadonlySet<string> = new Set(['1', 'y', 'yes', 't', 'true', 'on']);
const FALSY: ReadonlySet<string> = new Set(['0', 'n', 'no', 'f', 'false', 'off']);

/** An environment variable, trimmed; '' when unset. */
const env = (name: string): string => process.env[name]?.trim() ?? '';

/** A boolean environment variable as Powertools parses one (`1`, `yes`, `on`…); undefined when unset or neither. */
function envFlag(name: string): boolean | undefined {
  const value = env(name).toLowerCase();
  return TRUTHY.has(value) ? true : FALSY.has(value) ? false : undefined;
}

const levelOf = (name: string): number | undefined => (Object.hasOwn(LogLevel, name) ? LogLevel[name as LogLevelName] : undefined);

/** Where lines go: the global console in Powertools' dev mode, else a console on the process's own streams (as Powertools, to stay clear of the runtime's console). */
type Out = Pick<Console, 'log' | 'debug' | 'info' | 'warn' | 'error'>;
const outputFor = (dev: boolean): Out => (dev ? console : new Console({ stdout: process.stdout, stderr: process.stderr }));

/** The X-Ray trace id of the invocation (`Root=` of the trace header), as Powertools reads it. */
function xrayTraceId(): string | undefined {
  const store = (globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId(): string | undefined } } }).awslambda?.InvokeStore;
  const header = store?.getXRayTraceId() ?? env('_X_AMZN_TRACE_ID');
  if (header === '') return undefined;
  if (!header.includes('=')) return header;
  for (const field of header.split(';')) {
    const [key, value] = field.split('=');
    if (key === 'Root') return value;
  }
  return undefined;
}

/** ISO 8601 in UTC, or with the offset of `TZ` when it names another zone (Powertools' format). */
function timestamp(now: Date, onBadZone: (zone: string) => void): string {
  const zone = env('TZ');
  if (zone === '' || zone.includes('UTC')) return now.toISOString();
  let resolved = zone;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    onBadZone(zone);
    resolved = 'UTC';
  }
  const parts: Record<string, string> = {};
  const format = new Intl.DateTimeFormat('en', {
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZone: resolved,
  });
  for (const part of format.formatToParts(now)) parts[part.type] = part.value;
  const offset = resolved === zone ? -now.getTimezoneOffset() : 0;
  const hours = String(Math.abs(Math.floor(offset / 60))).padStart(2, '0');
  const minutes = String(Math.abs(offset % 60)).padStart(2, '0');
  const millis = String(now.getMilliseconds()).padStart(3, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${millis}${offset >= 0 ? '+' : '-'}${hours}:${minutes}`;
}

/** The Lambda context's members a line carries. */
interface LineContext {
  readonly coldStart: boolean;
  readonly arn: string;
  readonly memory: string;
  readonly name: string;
  readonly requestId: string;
  readonly tenantId: string | undefined;
}

/**
 * A JSON logger writing Powertools Logger's lines: `level`, `message`, `timestamp`, `service`,
 * the Lambda context (`cold_start`, `function_arn`, `function_memory_size`, `function_name`,
 * `function_request_id`) once {@link addContext} was called, `sampling_rate`,
 * `xray_trace_id`, then the attributes in their order; a key whose value is undefined, null
 * or '' is left out. INFO and DEBUG go to stdout, WARN and ERROR to stderr.
 */
export class JsonLogger {
  readonly #service: string;
  readonly #out: Out;
  readonly #indent: number;
  readonly #sampleRate: number;
  #level: number;
  /** True until the first {@link addContext} of an on-demand instance (Powertools counts per logger). */
  #coldStart: boolean;
  #context: LineContext | undefined;
  #warnedAlc = false;
  #warnedZone = false;

  constructor(service: string) {
    this.#service = service;
    this.#coldStart = env('AWS_LAMBDA_INITIALIZATION_TYPE') === 'on-demand';
    const dev = envFlag('POWERTOOLS_DEV') === true;
    this.#out = outputFor(dev);
    this.#indent = dev ? 4 : 0;
    const lambdaLevel = env('AWS_LAMBDA_LOG_LEVEL');
    const alcName = lambdaLevel === 'FATAL' ? 'CRITICAL' : lambdaLevel;
    const alc = levelOf(alcName);
    this.#level = alc ?? levelOf(env('POWERTOOLS_LOG_LEVEL') || env('LOG_LEVEL')) ?? LogLevel.INFO;
    // Powertools throws on a rate that is not a number; here it counts as no sampling.
    const rate = Number(env('POWERTOOLS_LOGGER_SAMPLE_RATE'));
    this.#sampleRate = rate >= 0 && rate <= 1 ? rate : 0;
    if (this.#sampleRate > 0 && randomInt(0, 100) / 100 <= this.#sampleRate && this.#level > LogLevel.TRACE) {
      if (alc === undefined) this.#level = LogLevel.DEBUG;
      else if (alc > LogLevel.DEBUG && !this.#warnedAlc) {
        this.#warnedAlc = true;
        this.log(
          'WARN',
          `Current log level (DEBUG) does not match AWS Lambda Advanced Logging Controls minimum log level (${alcName}). This can lead to data loss, consider adjusting them.`,
        );
      }
      this.log('DEBUG', 'Setting log level to DEBUG due to sampling rate');
    }
  }

  /** Carry this invocation's Lambda context in every later line (Powertools' `addContext`). */
  addContext(context: Context): void {
    const coldStart = this.#coldStart;
    this.#coldStart = false;
    this.#context = {
      coldStart,
      arn: context.invokedFunctionArn,
      memory: context.memoryLimitInMB,
      name: context.functionName,
      requestId: context.awsRequestId,
      tenantId: (context as { tenantId?: string }).tenantId,
    };
  }

  /** Powertools' one warning of a `TZ` it cannot resolve, on the global console. */
  #warnZone(zone: string): void {
    if (this.#warnedZone) return;
    this.#warnedZone = true;
    console.warn(`Invalid or unresolvable time zone: "${zone}" - falling back to UTC.`);
  }

  /** Write one line at `level`, if the logger's level lets it through. */
  log(level: LogLevelName, message: string, attributes?: Readonly<Record<string, LogValue>>): void {
    if (LogLevel[level] < this.#level) return;
    const context = this.#context;
    const line: Record<string, unknown> = {
      level,
      message,
      timestamp: timestamp(new Date(), (zone) => this.#warnZone(zone)),
      service: this.#service,
      cold_start: context?.coldStart,
      function_arn: context?.arn,
      function_memory_size: context?.memory,
      function_name: context?.name,
      function_request_id: context?.requestId,
      sampling_rate: this.#sampleRate,
      xray_trace_id: xrayTraceId(),
      tenant_id: context?.tenantId,
    };
    if (attributes !== undefined) {
      for (const key of Object.keys(attributes)) {
        if (RESERVED_KEYS.has(key)) {
          this.log('WARN', `The key "${key}" is a reserved key and will be dropped.`);
          continue;
        }
        if (key === '__proto__' || key === 'constructor') continue;
        const value = attributes[key];
        if (value !== undefined || line[key] === undefined) line[key] = value;
      }
    }
    const out: Record<string, unknown> = {};
    for (const key in line) {
      const value = line[key];
      if (value !== undefined && value !== null && value !== '') out[key] = value;
    }
    const text = JSON.stringify(out, null, this.#indent);
    if (level === 'CRITICAL') this.#out.error(text);
    else if (level === 'TRACE') this.#out.log(text);
    else this.#out[level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error'](text);
  }
}

/** CloudWatch metric units the authorizer uses. */
export type MetricUnit = 'Count' | 'Milliseconds';

/** One metric of an EMF line. */
export interface MetricValue {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly value: number;
}

/**
 * Writes CloudWatch embedded-metric-format lines as Powertools Metrics' `publishStoredMetrics`
 * does: one namespace, one dimension set (`service` first, then the line's own), the metrics
 * in the order given, `_aws.Timestamp` the time of writing.
 */
export class EmfWriter {
  readonly #namespace: string;
  readonly #service: string;
  readonly #out: Out;
  readonly #disabled: boolean;

  constructor(namespace: string, service: string) {
    this.#namespace = namespace;
    this.#service = service;
    const dev = envFlag('POWERTOOLS_DEV') === true;
    this.#out = outputFor(dev);
    this.#disabled = process.env.POWERTOOLS_METRICS_DISABLED !== undefined ? envFlag('POWERTOOLS_METRICS_DISABLED') === true : dev;
  }

  /** Write one EMF line of `metrics` under the service dimension and `dimensions`. */
  write(dimensions: Readonly<Record<string, string>>, metrics: readonly MetricValue[]): void {
    if (this.#disabled || metrics.length === 0) return;
    const definitions: { Name: string; Unit: MetricUnit }[] = [];
    const values: Record<string, number> = {};
    for (const metric of metrics) {
      definitions.push({ Name: metric.name, Unit: metric.unit });
      values[metric.name] = metric.value;
    }
    const line = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: this.#namespace, Dimensions: [['service', ...Object.keys(dimensions)]], Metrics: definitions }],
      },
      service: this.#service,
      ...dimensions,
      ...values,
    };
    this.#out.log(JSON.stringify(line));
  }
}
