import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import { Unrouted } from '../core/config';
import { isJsonObject } from '../core/json';
import { parseOpenApiText, readOpenApiRoutes } from '../core/openapi';
import { type AccessChange, type AccessDiff, type DiffTable, diffRouteTables } from '../proof/diff';
import { commandArgs } from './args';
import { readRouteConfig } from './verify';

export const DIFF_HELP = `Usage: scopegate diff (--base FILE | --base-ref GIT_REF) --head FILE [--json] [--allow-new-access]

Compares two route tables (two authorizer configurations, or two OpenAPI 3 documents) and
prints who gains and who loses access: over every valid token (every set of the scopes of
both tables, at every authentication age that changes a step-up verdict) and every request
path, the requests newly allowed and newly denied. Each change is printed once per pair of
governing routes, with a smallest set of scopes whose tokens show it, a shortest request
that shows it, and the route that governs that request. Routing is API Gateway's (a literal
route beside a parameter takes requests away from the parameter's route); a report-only
route lets any valid token through. The text is a Markdown table, for a pull request
(docs/diff.md shows a GitHub Actions job).

Options:
  --base FILE         the table before the change
  --base-ref GIT_REF  the table before the change is the head file at this git revision
                      (git show GIT_REF:PATH, PATH relative to the head file's repository);
                      a file that did not exist there is compared with an empty table
  --head FILE         the table after the change. A .yaml/.yml file, or JSON with an
                      "openapi" field, is an OpenAPI document (read as "scopegate routes"
                      reads it, its paths being the API's whole resource set); any other
                      JSON is a configuration or a bare route list (as "scopegate verify"
                      reads it)
  --json              {"newAccess": [CHANGE, ...], "lostAccess": [CHANGE, ...], ...}, each
                      CHANGE {"scopes", "request", "route", "baseRoute", "headRoute",
                      "authAgeSeconds"?, "scopeSets", "before", "after"}
  --allow-new-access  exit 0 even when access is gained
  -h, --help          this text

Exit status: 1 when some token gains access (0 with --allow-new-access); 0 when none does
(lost access alone is printed, not a failure); 2 on a usage or configuration error.`;

/** A table read from a file, and where it came from. */
interface ReadTable {
  table: DiffTable;
  /** The file, or `REF:path`. */
  label: string;
  note?: string;
}

/** Whether a file's text is an OpenAPI document (by its name, or an `openapi`/`swagger` field), else a configuration. */
function isOpenApi(name: string, text: string): boolean {
  if (/\.ya?ml$/i.test(name)) return true;
  try {
    const raw: unknown = JSON.parse(text);
    return isJsonObject(raw) && ('openapi' in raw || 'swagger' in raw);
  } catch {
    // Not JSON: YAML, which only an OpenAPI document may be.
    return !/\.json$/i.test(name);
  }
}

/** Read a route table from a file's text (`name` tells the kind and names it in errors). Throws with the bad field named. */
export function readDiffTable(name: string, text: string): DiffTable {
  if (isOpenApi(name, text)) {
    const rows = readOpenApiRoutes(parseOpenApiText(text, name)).map((r) => ({
      method: r.method,
      path: r.path,
      ...(r.anyOf !== undefined && r.anyOf.length > 0 ? { anyOf: r.anyOf } : { scopes: r.scopes ?? [] }),
      ...(r.enforcement !== undefined ? { enforcement: r.enforcement } : {}),
    }));
    // Imported as a SpecRestApi, the document is the API's whole resource set.
    return readRouteConfig({ routes: rows, unrouted: Unrouted.UNREACHABLE });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // The parser's message quotes the text, which may hold a secret: say where, not what.
    const at = /position \d+/.exec((error as Error).message)?.[0];
    throw new Error(`not valid JSON${at ? ` (at ${at})` : ''}`);
  }
  return readRouteConfig(raw);
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** The head file's text at a git revision; `undefined` when the file did not exist there. Throws on a bad revision or no repository. */
export function readAtRef(headFile: string, ref: string): { path: string; text: string | undefined } {
  // git would read a leading dash as an option.
  if (ref.startsWith('-')) throw new Error(`${ref} is not a git revision`);
  const file = realpathSync(headFile);
  const cwd = dirname(file);
  let root: string;
  try {
    root = git(cwd, ['rev-parse', '--show-toplevel']).trim();
  } catch {
    throw new Error(`${headFile} is not in a git repository`);
  }
  const path = relative(realpathSync(root), file).split(sep).join('/');
  try {
    git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new Error(`${ref} is not a git revision here (with actions/checkout, fetch it: fetch-depth: 0)`);
  }
  try {
    git(root, ['cat-file', '-e', `${ref}:${path}`]);
  } catch {
    return { path, text: undefined };
  }
  return { path, text: git(root, ['show', `${ref}:${path}`]) };
}

/** `text` as Markdown inline code (a backtick inside takes a longer fence), with `|` escaped for a table cell. */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  const pad = fence.length > 1 ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`.replaceAll('|', '\\|');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function tokenCell(change: AccessChange): string {
  const scopes = change.scopes.length > 0 ? change.scopes.map(code).join(' ') : 'any valid token';
  const age = change.authAgeSeconds !== undefined ? `, authenticated ${change.authAgeSeconds} s ago` : '';
  const more =
    change.scopeSets.length > 1
      ? ` (or ${change.scopeSets
          .slice(1)
          .map((set) => set.map(code).join(' ') || 'no scope')
          .join(', or ')})`
      : '';
  return `${scopes}${age}${more}`;
}

function routeCell(route: string | null, requirement: string): string {
  return route === null ? cell(requirement) : `${code(route)}: ${cell(requirement)}`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Rows (the header first) as a Markdown table with aligned columns, readable as text too. */
function markdownTable(rows: string[][]): string[] {
  const widths = (rows[0] as string[]).map((_, k) => Math.max(3, ...rows.map((r) => [...(r[k] as string)].length)));
  const line = (cells: string[]) => `| ${cells.map((c, k) => c + ' '.repeat((widths[k] as number) - [...c].length)).join(' | ')} |`;
  return [line(rows[0] as string[]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)];
}

/** The one-line summary. */
export function diffSummary(diff: AccessDiff): string {
  if (diff.newAccess.length === 0 && diff.lostAccess.length === 0)
    return 'No change in access: every token is allowed exactly the requests it was.';
  const parts: string[] = [];
  if (diff.newAccess.length > 0) parts.push(`${plural(diff.newAccess.length, 'change grants', 'changes grant')} new access`);
  if (diff.lostAccess.length > 0) parts.push(`${plural(diff.lostAccess.length, 'change takes', 'changes take')} access away`);
  return `${parts.join(', ')}.`;
}

/** The comparison as Markdown: the summary, a table per direction, and what was compared. */
export function formatDiff(diff: AccessDiff, base: string, head: string): string {
  const lines = [`**scopegate diff** \`${base}\` → \`${head}\`: ${diffSummary(diff)}`];
  const table = (title: string, changes: AccessChange[], gained: boolean) => {
    if (changes.length === 0) return;
    const rows = [
      ['token with', 'request', gained ? 'now allowed by (head)' : 'was allowed by (base)', gained ? 'was (base)' : 'now (head)'],
      ...changes.map((c) => [
        tokenCell(c),
        code(c.request),
        gained ? routeCell(c.headRoute, c.after) : routeCell(c.baseRoute, c.before),
        gained ? routeCell(c.baseRoute, c.before) : routeCell(c.headRoute, c.after),
      ]),
    ];
    lines.push('', `#### ${title} (${changes.length})`, '', ...markdownTable(rows));
  };
  table('New access', diff.newAccess, true);
  table('Lost access', diff.lostAccess, false);
  const ages =
    diff.authAgesSeconds.length > 0
      ? `, at every authentication age that changes a step-up verdict: none, ${diff.authAgesSeconds.map((a) => `${a} s`).join(', ')}`
      : '';
  lines.push(
    '',
    `Compared every valid token (every set of the ${plural(diff.scopes.length, 'scope', 'scopes')} of both tables${ages}) on every request path: ` +
      `${plural(diff.pairs, 'pair', 'pairs')} of governing routes, ${diff.states} router states, ${diff.elapsedMs} ms.`,
  );
  return lines.join('\n');
}

/** `scopegate diff`: returns the exit status. */
export async function diffCommand(argv: string[], out: (text: string) => void = console.log): Promise<number> {
  const values = commandArgs(
    argv,
    {
      base: { type: 'string' },
      'base-ref': { type: 'string' },
      head: { type: 'string' },
      json: { type: 'boolean' },
      'allow-new-access': { type: 'boolean' },
    },
    DIFF_HELP,
    out,
  );
  if (typeof values === 'number') return values;
  const baseFile = typeof values.base === 'string' ? values.base : undefined;
  const baseRef = typeof values['base-ref'] === 'string' ? values['base-ref'] : undefined;
  const headFile = typeof values.head === 'string' ? values.head : undefined;
  if ((baseFile === undefined) === (baseRef === undefined) || headFile === undefined) {
    out(`give --head FILE and one of --base FILE and --base-ref GIT_REF\n\n${DIFF_HELP}`);
    return 2;
  }
  let base: ReadTable;
  let head: ReadTable;
  let current = headFile;
  try {
    head = { table: readDiffTable(headFile, readFileSync(headFile, 'utf8')), label: headFile };
    if (baseRef !== undefined) {
      current = `${baseRef}:${headFile}`;
      const at = readAtRef(headFile, baseRef);
      current = `${baseRef}:${at.path}`;
      base =
        at.text === undefined
          ? { table: { routes: [] }, label: current, note: `${at.path} does not exist at ${baseRef}: compared with an empty route table.` }
          : { table: readDiffTable(at.path, at.text), label: current };
    } else {
      current = baseFile as string;
      base = { table: readDiffTable(current, readFileSync(current, 'utf8')), label: current };
    }
  } catch (error) {
    out(`scopegate diff: ${current}: ${(error as Error).message}`);
    return 2;
  }
  const diff = diffRouteTables(base.table, head.table);
  if (values.json) {
    out(
      JSON.stringify(
        {
          newAccess: diff.newAccess,
          lostAccess: diff.lostAccess,
          summary: diffSummary(diff),
          base: base.label,
          head: head.label,
          ...(base.note ? { note: base.note } : {}),
          scopes: diff.scopes,
          authAgesSeconds: diff.authAgesSeconds,
          pairs: diff.pairs,
          states: diff.states,
          elapsedMs: diff.elapsedMs,
        },
        null,
        2,
      ),
    );
  } else {
    const text = formatDiff(diff, base.label, head.label);
    out(base.note ? `${text}\n\n${base.note}` : text);
  }
  return diff.newAccess.length > 0 && !values['allow-new-access'] ? 1 : 0;
}
