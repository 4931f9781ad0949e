import { Refresher, type RefreshOutcome, type RefreshPolicy, sharedCall } from '../../../functions/shared/refresher';

const POLICY: RefreshPolicy = { maxAgeMs: 60_000, retryMs: 1000, intervalMs: 10_000 };

/** A refresher over a scripted source: each load answers `source.next` (an Error rejects), after `source.gate` opens. */
function setup() {
  let clock = 1_000_000;
  const source = { next: 'v1' as string | Error, loads: 0, gate: undefined as Promise<void> | undefined, tookMs: 0 };
  const outcomes: RefreshOutcome[] = [];
  const refresher = new Refresher<string>(
    async () => {
      source.loads++;
      if (source.gate) await source.gate;
      clock += source.tookMs;
      if (source.next instanceof Error) throw source.next;
      return source.next;
    },
    { now: () => clock, onSettled: (outcome) => outcomes.push(outcome) },
  );
  return { refresher, source, outcomes, now: () => clock, advance: (ms: number) => (clock += ms) };
}

function gate() {
  let open!: () => void;
  const closed = new Promise<void>((resolve) => (open = resolve));
  return { closed, open };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('Refresher', () => {
  it('shares one load among 500 concurrent callers', async () => {
    const { refresher, source } = setup();
    const { closed, open } = gate();
    source.gate = closed;
    const waiting = Array.from({ length: 500 }, () => refresher.refresh());
    expect(refresher.pending).toBeDefined();
    open();
    await Promise.all(waiting);
    expect(source.loads).toBe(1);
    expect(refresher.value).toBe('v1');
    expect(refresher.pending).toBeUndefined();
  });

  it('never rejects: a failed load leaves its error for the caller to fail closed on', async () => {
    const { refresher, source } = setup();
    source.next = new Error('connection refused');
    await expect(refresher.refresh()).resolves.toBeUndefined();
    expect(refresher.value).toBeUndefined();
    expect(refresher.lastError).toBe(source.next);
  });

  it('keeps the held value when a refresh fails (stale-if-error), and forgets the error once one succeeds', async () => {
    const { refresher, source } = setup();
    await refresher.refresh();
    source.next = new Error('HTTP 503');
    await refresher.refresh();
    expect(refresher.value).toBe('v1');
    expect(refresher.lastError).toBeInstanceOf(Error);
    source.next = 'v2';
    await refresher.refresh();
    expect(refresher.value).toBe('v2');
    expect(refresher.lastError).toBeUndefined();
  });

  it('lets anyone fetch while nothing failed and no fetch missed', async () => {
    const { refresher, now } = setup();
    expect(refresher.mayFetch(now(), POLICY)).toBe(true);
    await refresher.refresh();
    expect(refresher.mayFetch(now(), POLICY)).toBe(true);
  });

  it('backs off retryMs after a failure while nothing is held', async () => {
    const { refresher, source, now, advance } = setup();
    source.next = new Error('down');
    await refresher.refresh();
    advance(999);
    expect(refresher.mayFetch(now(), POLICY)).toBe(false);
    advance(1);
    expect(refresher.mayFetch(now(), POLICY)).toBe(true);
  });

  it('backs off intervalMs after a failure while a value is held', async () => {
    const { refresher, source, now, advance } = setup();
    await refresher.refresh();
    source.next = new Error('down');
    await refresher.refresh();
    advance(9_999);
    expect(refresher.mayFetch(now(), POLICY)).toBe(false);
    advance(1);
    expect(refresher.mayFetch(now(), POLICY)).toBe(true);
  });

  it('counts the back-off from the end of the failed attempt, not its start', async () => {
    const { refresher, source, now, advance } = setup();
    source.next = new Error('timeout');
    source.tookMs = 3000;
    await refresher.refresh();
    expect(refresher.mayFetch(now(), POLICY)).toBe(false);
    advance(999);
    expect(refresher.mayFetch(now(), POLICY)).toBe(false);
  });

  it('starts the penalty box only after a fetch that missed what it was made for', async () => {
    const { refresher, source, now, advance } = setup();
    await refresher.refresh(() => false);
    expect(refresher.mayFetch(now(), POLICY)).toBe(true);
    await refresher.refresh();
    expect(refresher.mayFetch(now(), POLICY)).toBe(true);
    source.next = 'v2';
    await refresher.refresh((value) => !value.includes('3'));
    expect(refresher.value).toBe('v2');
    expect(refresher.mayFetch(now(), POLICY)).toBe(false);
    advance(9_999);
    expect(refresher.mayFetch(now(), POLICY)).toBe(false);
    advance(1);
    expect(refresher.mayFetch(now(), POLICY)).toBe(true);
  });

  it('joins the fetch under way rather than starting another, whatever it was made for', async () => {
    const { refresher, source } = setup();
    const { closed, open } = gate();
    source.gate = closed;
    const first = refresher.refresh();
    const second = refresher.refresh(() => true);
    expect(second).toBe(first);
    open();
    await second;
    expect(source.loads).toBe(1);
  });

  it('does not refresh a value younger than maxAgeMs', async () => {
    const { refresher, source, now, advance } = setup();
    await refresher.refresh();
    advance(60_000);
    refresher.refreshIfStale(now(), POLICY);
    expect(refresher.pending).toBeUndefined();
    expect(source.loads).toBe(1);
  });

  it('refreshes a stale value in the background while still holding it', async () => {
    const { refresher, source, now, advance } = setup();
    await refresher.refresh();
    const { closed, open } = gate();
    source.gate = closed;
    source.next = 'v2';
    advance(60_001);
    refresher.refreshIfStale(now(), POLICY);
    refresher.refreshIfStale(now(), POLICY);
    expect(refresher.pending).toBeDefined();
    expect(refresher.value).toBe('v1');
    open();
    await flush();
    expect(refresher.value).toBe('v2');
    expect(source.loads).toBe(2);
  });

  it('refreshes a stale value at most once per intervalMs while the refresh fails', async () => {
    const { refresher, source, now, advance } = setup();
    await refresher.refresh();
    source.next = new Error('down');
    advance(60_001);
    for (let i = 0; i < 600; i++) {
      refresher.refreshIfStale(now(), POLICY);
      await flush();
      advance(100);
    }
    // 60 s of calls: a failed refresh at the start and then one per 10 s.
    expect(source.loads - 1).toBe(6);
    expect(refresher.value).toBe('v1');
  });

  it('tells onSettled of each fetch, with its duration, before any waiting caller resumes', async () => {
    const { refresher, source, outcomes } = setup();
    source.tookMs = 40;
    await refresher.refresh();
    expect(outcomes).toEqual([{ ok: true, ms: 40 }]);
    const error = new Error('down');
    source.next = error;
    await refresher.refresh();
    expect(outcomes[1]).toEqual({ ok: false, ms: 40, error });
  });
});

describe('sharedCall', () => {
  it('shares the call under way for a key, its rejection included, then forgets it', async () => {
    const inflight = new Map<string, Promise<number>>();
    let calls = 0;
    const { closed, open } = gate();
    const start = async () => {
      calls++;
      await closed;
      throw new Error('unavailable');
    };
    const a = sharedCall(inflight, 'k', start);
    const b = sharedCall(inflight, 'k', start);
    const other = sharedCall(inflight, 'other', async () => 7);
    expect(b).toBe(a);
    open();
    await expect(a).rejects.toThrow('unavailable');
    await expect(b).rejects.toThrow('unavailable');
    await expect(other).resolves.toBe(7);
    expect(calls).toBe(1);
    expect(inflight.size).toBe(0);
    await expect(sharedCall(inflight, 'k', start)).rejects.toThrow('unavailable');
    expect(calls).toBe(2);
  });
});
