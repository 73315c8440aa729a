import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stopChild, track } from './children.js';
import { freshPostgresDatabase } from './server.js';

export const REPO = resolve(import.meta.dirname, '../..');
const WARDEN = join(REPO, 'bin/warden.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Longest a command may run before it is killed (and the call fails): below the tests' own timeout. */
const RUN_TIMEOUT_MS = 100_000;

export async function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string, timeoutMs = RUN_TIMEOUT_MS): Promise<CliResult> {
  const child = track(spawn(command, args, { env: { ...process.env, ...env }, cwd: REPO }));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const [code] = await once(child, 'close');
    if (timedOut) throw new Error(`${[command, ...args].join(' ')} ran over ${timeoutMs} ms and was killed:\n${stdout}\n${stderr}`);
    return { code: code as number | null, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

export const warden = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [WARDEN, ...args], env);

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A data directory (embedded database) or a fresh Postgres database, as the suite is configured. */
export async function freshInstance(): Promise<{ args: string[]; env: NodeJS.ProcessEnv; cleanup(): Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const pg = await freshPostgresDatabase(process.env.DATABASE_URL);
    return { args: [], env: { DATABASE_URL: pg.url }, cleanup: pg.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
  return {
    args: ['--data-dir', dir],
    env: { DATABASE_URL: '' },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RunningServer {
  url: string;
  process: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `warden serve` as a separate process and waits until /_health answers. */
export async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<RunningServer> {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, [WARDEN, 'serve', '--port', String(port), ...args], {
      env: { ...process.env, WARDEN_LOG_LEVEL: 'warn', ...env },
      cwd: REPO,
    }),
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 45_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`warden serve exited early:\n${output}`);
      const ok = await fetch(`${url}/_health`, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`warden serve did not become healthy:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw err;
  }
  return {
    url,
    process: child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      await stopChild(child, signal, 20_000);
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Splits concatenated JSON documents (as a shell script's curl outputs arrive) into values. */
export function splitJsonStream(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if (c === '}' || c === ']') {
      if (--depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return values;
}

/**
 * The source document's jq programs use keywords as object keys (`{id, label}`), which needs jq 1.7
 * or later; Debian 12 ships jq 1.6. When the system jq is older, a PATH entry puts gojq (jq 1.7
 * compatible, a Debian package) first under the name `jq`. Without either, the tests fail loudly.
 */
export function pathWithModernJq(): string {
  const version = (bin: string) => {
    try {
      return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  };
  const jq = version('jq');
  const match = jq?.match(/^jq-(\d+)\.(\d+)/);
  if (match && (Number(match[1]) > 1 || Number(match[2]) >= 7)) return process.env.PATH ?? '';
  if (!version('gojq')) throw new Error(`The source document's scripts need jq >= 1.7 (found: ${jq ?? 'none'}); install jq 1.7+ or gojq.`);
  const dir = mkdtempSync(join(tmpdir(), 'warden-jq-'));
  symlinkSync(execFileSync('sh', ['-c', 'command -v gojq'], { encoding: 'utf8' }).trim(), join(dir, 'jq'));
  return `${dir}:${process.env.PATH ?? ''}`;
}
