/**
 * `warden matrix plan|apply|export|check`: the access matrix as code, through the HTTP API of a
 * running Warden (so it works against any node, with a personal API key).
 *   plan FILE                 readable diff; exit 0 no changes, 2 changes, 1 error (terraform's detailed exit code)
 *   apply FILE [--secrets-out PATH] [--dry-run]   all or nothing; new keys shown once (or written to PATH, mode 0600)
 *   export [--out FILE]       the organization's access as a file; export -> apply is a no-op
 *   check FILE                for CI: exit 0 when the organization matches, 2 naming every drift, 1 on error
 * Server: --url, WARDEN_URL or POSTHOG_HOST (default http://127.0.0.1:8000). Key: --api-key,
 * WARDEN_API_KEY or POSTHOG_PERSONAL_API_KEY. Organization: --organization ID, else the key's current one.
 */
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { MatrixError } from '../matrix/errors.js';
import { parseMatrix } from '../matrix/parse.js';

export const MATRIX_USAGE = `Usage: warden matrix <plan|apply|check> FILE [options]
       warden matrix export [--out FILE] [options]

  plan FILE      show what apply would change (exit 0: none, 2: changes, 1: error)
  apply FILE     make the changes, all or nothing (--secrets-out PATH writes new keys there, mode 0600; --dry-run)
  check FILE     exit 2 and name every drift between FILE and the organization (0: none, 1: error)
  export         write the organization's access as a matrix file (--out FILE, default stdout)

Options:
  --url U           WARDEN_URL, POSTHOG_HOST          (default http://127.0.0.1:8000)
  --api-key K       WARDEN_API_KEY, POSTHOG_PERSONAL_API_KEY
  --organization ID the organization (default: the key's current organization)
  --json            print the server's answer as JSON
`;

interface Change {
  op: '+' | '~' | '-';
  description: string;
}
interface PlanAnswer {
  organization_id: string;
  file_sha256: string;
  changes: Change[];
  summary: { add: number; change: number; remove: number };
  warnings: string[];
}
interface ApplyAnswer extends PlanAnswer {
  batch_id: string | null;
  dry_run: boolean;
  new_keys: Array<{ service_account: string; project_name: string; key_id: string; scopes: string[]; value: string }>;
}

class CliError extends Error {}

function settings(flags: Record<string, string>, env: NodeJS.ProcessEnv) {
  const url = (flags.url || env.WARDEN_URL || env.POSTHOG_HOST || 'http://127.0.0.1:8000').replace(/\/+$/, '');
  const key = flags['api-key'] || env.WARDEN_API_KEY || env.POSTHOG_PERSONAL_API_KEY;
  if (!key || key === 'true') throw new CliError('a personal API key is needed: --api-key, WARDEN_API_KEY or POSTHOG_PERSONAL_API_KEY');
  const organization = flags.organization && flags.organization !== 'true' ? flags.organization : '@current';
  return { url, key, organization: encodeURIComponent(organization) };
}

async function call<T>(s: ReturnType<typeof settings>, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${s.url}/api/organizations/${s.organization}/access_matrix/${path}`, {
      method,
      headers: { authorization: `Bearer ${s.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new CliError(`cannot reach ${s.url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${s.url} answered ${res.status} without JSON`);
  }
  if (!res.ok) {
    const detail = (parsed as { detail?: string }).detail ?? text;
    throw new CliError(res.status === 400 ? detail : `${res.status}: ${detail}`);
  }
  return parsed as T;
}

/** The file's text, checked locally first (syntax, keys, scopes) so its problems need no server. */
function readDocument(file: string | undefined): { text: string; hash: string } {
  if (!file) throw new CliError('a matrix file is needed');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  parseMatrix(text, file);
  return { text, hash: createHash('sha256').update(text).digest('hex') };
}

const lines = (changes: readonly Change[]) => changes.map((c) => `  ${c.op} ${c.description}`).join('\n');
const summaryLine = (s: PlanAnswer['summary']) => `${s.add} to add, ${s.change} to change, ${s.remove} to remove`;

function warn(answer: { warnings: string[] }): void {
  for (const w of answer.warnings) console.error(`warning: ${w}`);
}

export async function runMatrix(args: string[], flags: Record<string, string>, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // `--json FILE` reads as a flag with a value; the value is then the file.
  const positional = [...args];
  if (flags.json && flags.json !== 'true') positional.push(flags.json);
  if (flags['dry-run'] && flags['dry-run'] !== 'true') positional.push(flags['dry-run']);
  const json = flags.json !== undefined;
  const [sub, file] = positional;
  try {
    switch (sub) {
      case 'plan':
      case 'check':
        return await plan(sub, file, flags, env, json);
      case 'apply':
        return await apply(file, flags, env, json);
      case 'export':
        return await exportFile(flags, env, json);
      case 'help':
        console.log(MATRIX_USAGE);
        return 0;
      default:
        console.error(MATRIX_USAGE);
        return 1;
    }
  } catch (err) {
    if (err instanceof MatrixError) {
      console.error(err.message);
      return 1;
    }
    if (err instanceof CliError) {
      console.error(`warden matrix ${sub}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

async function plan(sub: 'plan' | 'check', file: string | undefined, flags: Record<string, string>, env: NodeJS.ProcessEnv, json: boolean): Promise<number> {
  const { text, hash } = readDocument(file);
  const s = settings(flags, env);
  const answer = await call<PlanAnswer>(s, 'POST', 'plan/', { document: text, file_name: file, file_hash: hash });
  const drift = answer.changes.length > 0;
  if (json) console.log(JSON.stringify(answer, null, 2));
  else if (!drift) console.log(`No changes: the organization matches ${file}.`);
  else if (sub === 'plan') console.log(`Plan for ${file} (sha256 ${hash.slice(0, 12)}):\n${lines(answer.changes)}\n\nPlan: ${summaryLine(answer.summary)}.`);
  else {
    console.log(
      `Drift: the organization differs from ${file} in ${answer.changes.length} place(s) (+ in the file only, - in the organization only, ~ different):`,
    );
    console.log(lines(answer.changes));
  }
  warn(answer);
  return drift ? 2 : 0;
}

async function apply(file: string | undefined, flags: Record<string, string>, env: NodeJS.ProcessEnv, json: boolean): Promise<number> {
  const { text, hash } = readDocument(file);
  const s = settings(flags, env);
  const dryRun = flags['dry-run'] !== undefined;
  const answer = await call<ApplyAnswer>(s, 'POST', '', { document: text, file_name: file, file_hash: hash, dry_run: dryRun });
  const secretsOut = flags['secrets-out'] && flags['secrets-out'] !== 'true' ? flags['secrets-out'] : null;
  if (secretsOut && answer.new_keys.length > 0) {
    writeFileSync(secretsOut, `${JSON.stringify({ batch_id: answer.batch_id, keys: answer.new_keys }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(secretsOut, 0o600);
  }
  if (json) {
    console.log(JSON.stringify(secretsOut ? { ...answer, new_keys: answer.new_keys.map(({ value: _v, ...k }) => k) } : answer, null, 2));
  } else if (answer.changes.length === 0) {
    console.log(`No changes: the organization already matches ${file}.`);
  } else {
    console.log(`${dryRun ? 'Dry run (rolled back)' : 'Applied'} ${file} (sha256 ${hash.slice(0, 12)}):\n${lines(answer.changes)}\n`);
    console.log(`${dryRun ? 'Would apply' : 'Applied'}: ${summaryLine(answer.summary)}${answer.batch_id ? ` (batch ${answer.batch_id})` : ''}.`);
    if (secretsOut && answer.new_keys.length > 0) console.log(`New keys written to ${secretsOut} (mode 0600).`);
    else if (answer.new_keys.length > 0) {
      console.log('\nNew service-account keys (shown once; store them now):');
      for (const k of answer.new_keys) console.log(`  ${k.service_account} in ${k.project_name}: ${k.value}`);
    }
  }
  warn(answer);
  return 0;
}

async function exportFile(flags: Record<string, string>, env: NodeJS.ProcessEnv, json: boolean): Promise<number> {
  const s = settings(flags, env);
  const answer = await call<{ document: string; warnings: string[] }>(s, 'GET', '');
  const out = flags.out && flags.out !== 'true' ? flags.out : null;
  if (out) writeFileSync(out, answer.document);
  if (json) console.log(JSON.stringify(answer, null, 2));
  else if (!out) process.stdout.write(answer.document);
  else console.log(`Wrote ${out}.`);
  warn(answer);
  return 0;
}
