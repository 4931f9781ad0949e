import { readFileSync, writeFileSync } from 'node:fs';
import { type AuditReport, audit, hasErrors } from '../functions/shared/audit';
import { commandArgs } from './args';

export const AUDIT_HELP = `Usage: scopegate audit (--issuer URL | --jwks-uri URL) [options]

Audits an issuer's signing keys, as the scheduled rotation checker does.

Options:
  --issuer URL          the issuer; OIDC discovery gives its jwks_uri
  --jwks-uri URL        the key set URL, without discovery
  --mirror URL          the mirror (CloudFront) URL to compare with the issuer's key set
  --state FILE          first-seen record per kid (read, then updated); enables key age
  --max-key-age-days N  report keys first seen more than N days ago (default 90)
  --max-cache-ttl N     report Cache-Control max-age over N seconds (default 3600)
  --ca FILE             extra trusted CA certificate (PEM), e.g. for a private PKI
  --json                print {"findings":[{code,severity,kid?,detail}], ...}
  -h, --help            this text

Exit status: 0 when no finding is an error, 1 otherwise, 2 on a usage error.`;

function table(report: AuditReport): string {
  const lines = [
    `issuer:   ${report.issuer ?? '-'}`,
    `jwks_uri: ${report.jwksUri ?? '-'}`,
    ...(report.mirrorUri ? [`mirror:   ${report.mirrorUri} (${report.mirrorInSync ? 'in sync' : 'differs'})`] : []),
    '',
    'keys:',
    ...report.keys.map(
      (k) =>
        `  ${(k.kid ?? '(no kid)').padEnd(24)} ${(k.alg ?? k.kty ?? '?').padEnd(6)} ${String(k.bits ?? '').padStart(5)} bits  ${k.usable ? 'usable' : 'NOT usable'}${k.ageDays !== undefined ? `  first seen ${k.ageDays} d ago` : ''}`,
    ),
    '',
    report.findings.length === 0 ? 'findings: none' : 'findings:',
    ...report.findings.map((f) => `  ${f.severity.toUpperCase().padEnd(8)} ${f.code.padEnd(20)} ${f.kid ? `[${f.kid}] ` : ''}${f.detail}`),
  ];
  return lines.join('\n');
}

/** `scopegate audit`: returns the exit status. */
export async function auditCommand(argv: string[], out: (text: string) => void = console.log): Promise<number> {
  const values = commandArgs(
    argv,
    {
      issuer: { type: 'string' },
      'jwks-uri': { type: 'string' },
      mirror: { type: 'string' },
      state: { type: 'string' },
      'max-key-age-days': { type: 'string' },
      'max-cache-ttl': { type: 'string' },
      ca: { type: 'string' },
      json: { type: 'boolean' },
    },
    AUDIT_HELP,
    out,
  );
  if (typeof values === 'number') return values;
  if (!values.issuer === !values['jwks-uri']) {
    out(`give exactly one of --issuer and --jwks-uri\n\n${AUDIT_HELP}`);
    return 2;
  }
  const statePath = values.state as string | undefined;
  let firstSeen: Record<string, string> = {};
  if (statePath) {
    try {
      firstSeen = (JSON.parse(readFileSync(statePath, 'utf8')) as { firstSeen?: Record<string, string> }).firstSeen ?? {};
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        out(`cannot read --state ${statePath}: ${(error as Error).message}`);
        return 2;
      }
    }
  }
  const report = await audit({
    issuer: values.issuer as string | undefined,
    jwksUri: values['jwks-uri'] as string | undefined,
    mirrorUri: values.mirror as string | undefined,
    firstSeen,
    maxKeyAgeDays: values['max-key-age-days'] ? Number(values['max-key-age-days']) : undefined,
    maxCacheTtlSeconds: values['max-cache-ttl'] ? Number(values['max-cache-ttl']) : undefined,
    http: values.ca ? { ca: readFileSync(values.ca as string, 'utf8') } : undefined,
  });
  if (statePath) writeFileSync(statePath, `${JSON.stringify({ firstSeen: report.firstSeen }, null, 2)}\n`);
  out(values.json ? JSON.stringify({ ...report, verifiedJwks: undefined }, null, 2) : table(report));
  return hasErrors(report) ? 1 : 0;
}
