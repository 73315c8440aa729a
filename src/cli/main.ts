import { ConfigError, loadConfig, type WardenConfig } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { bootstrap } from '../domain/signup.js';
import { buildApp } from '../http/app.js';
import { migrate } from '../store/migrate.js';
import { openStore } from '../store/open.js';
import { parseArgs } from './args.js';
import { runAudit } from './audit.js';

const USAGE = `Usage: warden <command> [options]

Commands:
  serve       Start the server (embedded database, or DATABASE_URL)
  bootstrap   First run for scripts: --email E --password P --organization NAME [--first-name N] [--json]
  migrate     Apply database migrations and exit
  audit verify  Check the activity log's hash chains: [--organization ID]; exits 1 on tampering

Options (each also an environment variable):
  --host H          WARDEN_HOST        (default 127.0.0.1)
  --port N          WARDEN_PORT        (default 8000)
  --data-dir D      WARDEN_DATA_DIR    (default ./.warden; the embedded database lives here)
  --database-url U  DATABASE_URL       (postgres://...; use a Postgres server instead)
  --open-signup     WARDEN_OPEN_SIGNUP (let anyone sign up after the first user)
  --secure-cookies  WARDEN_SECURE_COOKIES (auto|always|never; default auto)
  --trust-proxy     WARDEN_TRUST_PROXY (trust X-Forwarded-* from a reverse proxy)
  --log-level L     WARDEN_LOG_LEVEL   (default info)
  --public-url U    WARDEN_PUBLIC_URL  (where users and identity providers reach Warden; default: the listen address)
  --dns-servers S   WARDEN_DNS_SERVERS (ip[:port],... asked for domain verification; default: the system's)
`;

export async function main(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv);
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
    case 'migrate': {
      const db = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      const applied = await migrate(db);
      await db.close();
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
      return 0;
    }
    case undefined:
    case 'help':
      console.log(USAGE);
      return command ? 0 : 2;
    default:
      console.error(`warden: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function serve(config: WardenConfig): Promise<number> {
  const db = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const { app } = await buildApp(db, config);
  const address = await app.listen({ host: config.host, port: config.port });
  if (!config.publicUrl) config.publicUrl = address;
  const where = config.databaseUrl ? 'Postgres' : `embedded database in ${config.dataDir}`;
  app.log.info(`Warden listening on ${address} (${where})`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info(`${signal}: draining requests and closing`);
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return new Promise<number>(() => undefined);
}

async function runBootstrap(config: WardenConfig, flags: Record<string, string>): Promise<number> {
  const missing = ['email', 'password', 'organization'].filter((f) => !flags[f] || flags[f] === 'true');
  if (missing.length > 0) {
    console.error(`warden bootstrap: missing ${missing.map((m) => `--${m}`).join(', ')}`);
    return 2;
  }
  const db = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
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
