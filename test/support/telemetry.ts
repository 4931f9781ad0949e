import type { DecisionRecord } from '../../functions/authorizer/authorize';
import type { Telemetry } from '../../functions/authorizer/telemetry';

/** A telemetry sink that keeps what it is told, for assertions. */
export function captureTelemetry(): Telemetry & { decisions: DecisionRecord[]; fetches: { ok: boolean }[]; warnings: unknown[] } {
  const decisions: DecisionRecord[] = [];
  const fetches: { ok: boolean }[] = [];
  const warnings: unknown[] = [];
  return {
    decisions,
    fetches,
    warnings,
    decision: (record) => decisions.push(record),
    jwksFetch: (event) => fetches.push(event),
    warn: (message, extra) => warnings.push({ message, ...extra }),
  };
}
