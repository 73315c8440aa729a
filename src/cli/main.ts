import { ConfigError, loadConfig, type WardenConfig } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { bootstrap } from '../domain/identity/signup.js';
import { buildApp } from '../http/app.js';
import { migrate } from '../store/migrate.js';
import { openDatabase, openStore, storeOptions } from '../store/open.js';
import { parseArgs } from './args.js';
import { runAudit } from './audit.js';
import { runDomains } from './domains.js';
import { runConfig } from './config.js';
import { runBackup, runRestore } from './backup.js';
import { markDataDirInUse } from '../store/backup.js';
import { MATRIX_USAGE, runMatrix } from './matrix.js';
import { startupMessage } from './startup.js';
import { openServingStore, servingCache } from './serving-store.js';
import cluster from 'node:cluster';
import { reportListening, servePrimary, workerSlot } from './workers.js';
import { commandHelp, COMMANDS, groupHelp, resolveCommand, unknownFlag, USAGE } from './help.js';

const HELP_WORDS = new Set(['--help', '-h']);

/** A usage error: the message and the usage line on stderr, exit 2. Nothing has been opened. */
function usageError(message: string, usage: string): number {
  console.error(`${message}\n${usage}`);
  return 2;
}

/**
 * `--help`/`-h` (anywhere) and `help [command]` print help and exit 0; an unknown command, option or
 * stray word is a usage error (2). Both are settled here, before any configuration is read or any
 * database opened. Returns undefined when the command may run.
 */
function helpOrUsageError(argv: readonly string[], positional: readonly string[], flags: Record<string, string>): number | undefined {
  const wantsHelp = argv.some((a) => HELP_WORDS.has(a)) || positional[0] === 'help';
  const words = positional[0] === 'help' ? positional.slice(1) : positional;
  const { command, group } = resolveCommand(words);
  if (wantsHelp) {
    const text = words.length === 0 ? USAGE : command === 'matrix' ? MATRIX_USAGE : command ? commandHelp(command) : group ? groupHelp(group) : undefined;
    if (text !== undefined) {
      console.log(text);
      return 0;
    }
    return usageError(`warden: unknown command "${words[0]}"`, USAGE);
  }
  if (words.length === 0) return usageError('warden: a command is needed', USAGE);
  if (group) return usageError(`warden ${group}: ${words[1] === undefined ? 'a subcommand is needed' : `unknown subcommand "${words[1]}"`}`, groupHelp(group));
  if (!command) return usageError(`warden: unknown command "${words[0]}"`, USAGE);
  if (command === 'matrix') return undefined; // its words and options are its own (src/cli/matrix.ts)
  const usage = `Usage: ${COMMANDS[command]!.usage}  (warden ${command} --help: all options)`;
  const flag = unknownFlag(command, flags);
  if (flag !== undefined) return usageError(`warden ${command}: unknown option --${flag}`, usage);
  const extra = words.slice(command.split(' ').length);
  if (extra.length > 0) return usageError(`warden ${command}: unexpected "${extra[0]}"`, usage);
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv.filter((a) => !HELP_WORDS.has(a)));
  const settled = helpOrUsageError(argv, positional, flags);
  if (settled !== undefined) return settled;
  const command = positional[0];
  let config: WardenConfig;
  try {
    config = loadConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`warden: ${err.message}`);
      return 2;
    }
    throw err;
  }
  switch (command) {
    case 'serve':
      return serve(config);
    case 'bootstrap':
      return runBootstrap(config, flags);
    case 'audit':
      return runAudit(config, positional[1], flags);
    case 'domains':
      return runDomains(config, positional[1], flags);
    case 'config':
      return runConfig(config, positional[1], flags);
    case 'backup':
      return runBackup(config, flags);
    case 'restore':
      return runRestore(config, flags);
    case 'matrix':
      return runMatrix(positional.slice(1), flags);
    case 'migrate': {
      return runMigrate(config, flags);
    }
    default:
      return usageError(`warden: unknown command "${command}"`, USAGE);
  }
}

/** `warden migrate [--json]`: each migration on a terminal as it runs; one JSON line with --json. */
async function runMigrate(config: WardenConfig, flags: Record<string, string>): Promise<number> {
  const db = await openDatabase(storeOptions(config));
  try {
    const started = Date.now();
    const applied = await migrate(db, (name, state) => {
      if (flags.json) return;
      if (state === 'applying') process.stdout.write(`Applying ${name} ... `);
      else process.stdout.write('done\n');
    });
    if (flags.json) console.log(JSON.stringify({ applied, ms: Date.now() - started }));
    else console.log(applied.length ? `Applied ${applied.length} migration(s).` : 'Database is up to date.');
    return 0;
  } finally {
    await db.close();
  }
}

async function serve(config: WardenConfig): Promise<number> {
  if (config.workers > 1 && !config.databaseUrl) {
    console.error(
      `warden serve: --workers ${config.workers} needs Postgres (DATABASE_URL): the embedded database is one process. ` +
        'Run with --workers 1, or point DATABASE_URL at a Postgres server.',
    );
    return 2;
  }
  if (config.workers > 1 && cluster.isPrimary) return servePrimary(config);
  const slot = workerSlot();
  const db = await openServingStore({ ...storeOptions(config), cache: servingCache(config) });
  const releaseDataDir = config.databaseUrl ? () => undefined : markDataDirInUse(config.dataDir);
  const { app } = await buildApp(db, config);
  const address = await app.listen({ host: config.host, port: config.port });
  if (!config.publicUrl) config.publicUrl = address;
  const where = config.databaseUrl ? 'Postgres' : `embedded database in ${config.dataDir}`;
  if (slot !== undefined) {
    // Under --workers the primary says where Warden is, once every worker listens.
    app.log.info(`Warden worker ${slot} listening on ${address} (${where})`);
    reportListening(address);
    process.on('disconnect', () => void stop('primary gone'));
  } else {
    app.log.info(`Warden listening on ${address} (${where})`);
    if (process.stdout.isTTY) console.log(await startupMessage(db, config.publicUrl));
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info(`${signal}: draining requests and closing`);
    await app.close();
    await db.close();
    releaseDataDir();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return new Promise<number>(() => undefined);
}

async function runBootstrap(config: WardenConfig, flags: Record<string, string>): Promise<number> {
  const missing = ['email', 'password', 'organization'].filter((f) => !flags[f] || flags[f] === 'true');
  if (missing.length > 0) {
    return usageError(`warden bootstrap: missing ${missing.map((m) => `--${m}`).join(', ')}`, `Usage: ${COMMANDS.bootstrap!.usage}`);
  }
  const db = await openStore(storeOptions(config));
  try {
    const result = await bootstrap(db, {
      email: flags.email!,
      password: flags.password!,
      first_name: flags['first-name'] ?? flags.email!.split('@')[0]!,
      organization_name: flags.organization!,
    });
    const output = {
      user: { id: result.user.id, uuid: result.user.uuid, email: result.user.email },
      organization: { id: result.organization.id, name: result.organization.name },
      project: { id: result.project.id, name: result.project.name, api_token: result.project.api_token },
      personal_api_key: result.personalApiKey,
    };
    if (flags.json) {
      console.log(JSON.stringify(output));
    } else {
      console.log(`Created ${output.user.email} (owner of "${output.organization.name}"), project "${output.project.name}" (id ${output.project.id}).`);
      console.log(`Personal API key (shown once): ${output.personal_api_key}`);
    }
    return 0;
  } catch (err) {
    if (err instanceof DomainError) {
      console.error(`warden bootstrap: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await db.close();
  }
}
