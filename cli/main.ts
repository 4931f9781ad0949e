import { AUDIT_HELP, auditCommand } from './audit';
import { DIFF_HELP, diffCommand } from './diff';
import { EXPLAIN_HELP, explainCommand } from './explain';
import { PROBE_HELP, probeCommand } from './probe';
import { ROUTES_HELP, routesCommand } from './routes';
import { VERIFY_HELP, verifyCommand } from './verify';

const HELP = `Usage: scopegate <command> [options]

Commands:
  explain   decode and verify a token, and explain each route's decision (401 or 403, and why)
  audit     audit an issuer's signing keys (the rotation checker, by hand)
  routes    the route table an OpenAPI document's security requirements yield, and a token's decisions
  verify    prove the compiled policies exact over every request path (docs/proof.md)
  probe     check a deployed stage's answers against the model, with a token (docs/deploying.md)
  diff      who gains and who loses access between two route tables, for a pull request (docs/diff.md)

Run "scopegate <command> --help" for a command's options.`;

/** The CLI: dispatch a command; resolves to the exit status. */
export async function main(argv: string[], out: (text: string) => void = console.log): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'audit':
      return auditCommand(rest, out);
    case 'diff':
      return diffCommand(rest, out);
    case 'explain':
      return explainCommand(rest, out);
    case 'routes':
      return routesCommand(rest, out);
    case 'verify':
      return verifyCommand(rest, out);
    case 'probe':
      return probeCommand(rest, out);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      out(HELP);
      return command === undefined ? 2 : 0;
    default:
      out(`unknown command: ${command}\n\n${HELP}`);
      return 2;
  }
}

export { AUDIT_HELP, DIFF_HELP, EXPLAIN_HELP, PROBE_HELP, ROUTES_HELP, VERIFY_HELP };
