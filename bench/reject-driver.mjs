// Started as a fresh Node process (with or without --enable-source-maps, as NODE_OPTIONS
// would set it on Lambda): import a bundled authorizer, then time rejected tokens, each
// including what the Node.js Lambda runtime does with the error a handler throws. Prints one
// JSON line. argv: bundle path, tokens file (JSON: {kind: [Authorization values]}, plus
// `valid` for the warm-up), warm-up count per kind.
//
// The runtime's work on a thrown error, as aws-lambda-nodejs-runtime-interface-client does it
// (src/CallbackContext.js, src/LogPatch.js, src/Errors.js, src/RAPIDClient.js,
// src/XRayError.js), rewritten here: (1) log "Invoke Error" with the error as JSON (its
// name, message, code, own enumerable fields and `stack` split into lines), as a text line
// framed for the telemetry log descriptor; (2) build the invocation error body
// {errorType, errorMessage, trace: stack lines} and (3) the X-Ray cause (each stack line
// parsed into {path, line, label}), both sent to the Runtime API. Reading `error.stack` is
// what formats the stack trace, through the source map when --enable-source-maps is on. The
// bytes are built, not written: the descriptor write and the HTTP call are left out.
import { readFileSync } from 'node:fs';
import { format } from 'node:util';

const [, , bundle, tokensFile, warmupArg] = process.argv;
const warmup = Number(warmupArg ?? '100');
const REQUEST_ID = '8f507cfc-0e51-4d2b-9c6a-0e5c7f3a2b1d';
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/telemetry';

const escapeDel = (s) => (typeof s === 'string' ? s.replaceAll('\x7F', '%7F') : s);

/** The runtime's replacer for its "Invoke Error" log line: Error fields made enumerable, the stack as lines. */
function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const out = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
  if (typeof value.stack === 'string') out.stack = value.stack.split('\n');
  return out;
}

/** The X-Ray cause the runtime builds from the stack lines. */
function xrayCause(error) {
  const stack = [];
  const lines = typeof error.stack === 'string' ? error.stack.replace(/\x7F/g, '%7F').split('\n').slice(1) : [];
  for (const raw of lines) {
    let line = raw.trim().replace(/\(|\)/g, '');
    line = line.substring(line.indexOf(' ') + 1);
    const cut = line.lastIndexOf(' ');
    const label = cut >= 0 ? line.slice(0, cut) : null;
    const where = (label ? line.slice(cut + 1) : line).split(':');
    stack.push({ path: where[0], line: Number.parseInt(where[1], 10), label: label || 'anonymous' });
  }
  return {
    working_directory: process.cwd(),
    exceptions: [{ type: escapeDel(error.name), message: escapeDel(error.message), stack }],
    paths: [...new Set(stack.map((s) => s.path))],
  };
}

const frameHeader = Buffer.alloc(16);

/** What the runtime does with a rejected invocation; returns the bytes it would write and send. */
function reportInvokeError(error) {
  // (1) the log line, as the text-format telemetry logger frames it
  const formatted = `\t${JSON.stringify(error, (_key, value) => withEnumerableProperties(value))}`;
  const line = `${new Date().toISOString()}\t${REQUEST_ID}\tERROR\t${format('Invoke Error', formatted)}\n`;
  const logBytes = Buffer.from(line, 'utf8');
  frameHeader.writeUInt32BE((0xa55a0003 | 0x14) >>> 0, 0); // the frame type, ERROR level
  frameHeader.writeInt32BE(logBytes.length, 4);
  frameHeader.writeBigInt64BE(BigInt(Date.now()) * 1000n, 8);
  // (2) the invocation error body and (3) the X-Ray cause
  const body = JSON.stringify({
    errorType: escapeDel(error.name),
    errorMessage: escapeDel(error.message),
    trace: escapeDel(error.stack).split('\n'),
  });
  const xray = JSON.stringify(xrayCause(error));
  return { log: logBytes.length, body: Buffer.byteLength(body), xray: Buffer.byteLength(xray) };
}

const tokens = JSON.parse(readFileSync(tokensFile, 'utf8'));
const write = process.stdout.write.bind(process.stdout);
// Logs go nowhere (their serialization still runs and is timed), as in the warm part: stdout
// and stderr alike, since Powertools writes WARN and ERROR lines (scopegate's 401s) to stderr
// and INFO lines (the peer's 401s) to stdout; on Lambda both go to the same log.
process.stdout.write = () => true;
process.stderr.write = () => true;

const t0 = performance.now();
const { handler } = await import(bundle);
const importMs = performance.now() - t0;
const event = (authorization) => ({ type: 'TOKEN', authorizationToken: authorization, methodArn: METHOD_ARN });

// Warm-up: the key set fetched and the JIT warm, on a valid token and each kind.
for (const value of tokens.valid) await handler(event(value));
const result = { importMs, kinds: {} };
for (const [kind, values] of Object.entries(tokens)) {
  if (kind === 'valid') continue;
  const totalUs = [];
  const runtimeUs = [];
  let bytes;
  for (let i = 0; i < values.length; i++) {
    const measured = i >= warmup;
    const started = process.hrtime.bigint();
    let error;
    try {
      await handler(event(values[i]));
    } catch (thrown) {
      error = thrown;
    }
    if (error === undefined || error.message !== 'Unauthorized') {
      write(`${JSON.stringify({ failure: `${kind} #${i}: expected Unauthorized, got ${error ? error.message : 'an answer'}` })}\n`);
      process.exit(1);
    }
    const caught = process.hrtime.bigint();
    bytes = reportInvokeError(error);
    const done = process.hrtime.bigint();
    if (measured) {
      totalUs.push(Number(done - started) / 1000);
      runtimeUs.push(Number(done - caught) / 1000);
    }
  }
  result.kinds[kind] = { totalUs, runtimeUs, bytes };
}
write(`${JSON.stringify(result)}\n`);
