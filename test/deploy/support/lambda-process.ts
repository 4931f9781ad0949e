import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

/** What one invocation gave: the handler's value, or the error it threw. */
export type Invocation = { ok: true; result: unknown } | { ok: false; error: { name: string; message: string } };

/**
 * One Lambda execution environment for a synthesized bundle: a Node.js process that
 * imports the bundle once and takes invocations in turn, with the function's environment
 * variables from the template. Its stdout (the function's log lines) is kept.
 */
export class LambdaProcess {
  readonly logs: string[] = [];
  private child: ChildProcess | undefined;
  private next = 0;
  private readonly pending = new Map<number, (value: Invocation) => void>();

  constructor(
    readonly bundlePath: string,
    readonly environment: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    const child = fork(join(__dirname, 'lambda-driver.mjs'), [this.bundlePath], { env: this.environment, silent: true, execArgv: [] });
    this.child = child;
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      this.logs.push(...lines.filter((l) => l.length > 0));
    });
    child.stderr?.on('data', (chunk: Buffer) => this.logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the bundle exited with ${code} during init: ${this.logs.join('\n')}`)));
      child.on('exit', (code) => {
        for (const settle of this.pending.values())
          settle({ ok: false, error: { name: 'Exited', message: `exit ${code}: ${this.logs.slice(-5).join(' | ')}` } });
        this.pending.clear();
      });
      child.on('message', (message: { ready?: boolean; id?: number } & Invocation) => {
        if (message.ready) return resolve();
        const settle = this.pending.get(message.id as number);
        this.pending.delete(message.id as number);
        settle?.(message);
      });
    });
  }

  /** Invoke the function; a result that does not come within `timeoutMs` is a timeout, as Lambda would end it. */
  invoke(event: unknown, timeoutMs = 15_000): Promise<Invocation> {
    const id = ++this.next;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: { name: 'Timeout', message: `no answer in ${timeoutMs} ms: ${this.logs.slice(-5).join(' | ')}` } });
      }, timeoutMs);
      this.pending.set(id, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
      this.child?.send({ id, event });
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill();
    });
  }
}
