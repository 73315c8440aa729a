import { ConfigError, loadConfig, type WardenConfig } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { bootstrap } from '../domain/signup.js';
import { buildApp } from '../http/app.js';
import { migrate } from '../store/migrate.js';
import { openDatabase, openStore, servingCache } from '../store/open.js';
import { parseArgs } from './args.js';
import { runAudit } from './audit.js';
import { runDomains } from './domains.js';
import { runConfig } from './config.js';
import { runBackup, runRestore } from './backup.js';
import { markDataDirInUse } from '../store/backup.js';
import { runMatrix } from './matrix.js';

const USAGE = `Usage: warden <command> [options]

Commands:
  serve       Start the server (embedded database, or DATABASE_URL)
  bootstrap   First run for scripts: --email E --password P --organization NAME [--first-name N] [--json]
  migrate     Apply database migrations and exit
  audit verify  Check the activity log's hash chains: [--organization ID]; exits 1 on tampering
  audit export  An organization's activity log to a file: --organization ID --out FILE [--format ndjson|csv] [--json]
  backup      Write the embedded database to a file (server stopped): --out FILE [--json]
  restore     Restore a backup into the data directory (server stopped): --from FILE [--replace] [--json]
  config print  Show the effective configuration (secrets masked) [--json]
  domains verify  Mark an organization's domain verified without DNS (air-gapped installs): --domain D
  matrix plan|apply|check FILE, matrix export  The access matrix as code, over the API of a running server
                (--url/WARDEN_URL/POSTHOG_HOST, --api-key/WARDEN_API_KEY/POSTHOG_PERSONAL_API_KEY; see warden matrix help)

Options (each also an environment variable, or a key of the --config / WARDEN_CONFIG file):
  --config F        WARDEN_CONFIG      (a YAML or JSON file of these settings; flags and env override it)
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
  --metrics-token T WARDEN_METRICS_TOKEN (enables GET /metrics for this bearer token; off without it)
  --cors-origins O  WARDEN_CORS_ORIGINS (origins allowed to call /api/ cross-origin; the SDK routes allow any)
  --rate-limits B   WARDEN_RATE_LIMITS (default true: 429s on login, sign-up, invites, failed key/SCIM auth)
  --access-cache B  WARDEN_ACCESS_CACHE (default true: the authorization hot path served from memory)
  --cache-max-entries N  WARDEN_CACHE_MAX_ENTRIES (default 100000: facts of one kind the cache holds)
  --oidc-ca-file F  WARDEN_OIDC_CA_FILE (extra CA trusted for OIDC providers)
  --sink-ca-file F  WARDEN_SINK_CA_FILE (extra CA trusted for activity-log sinks)
  --sink-poll-ms N, --sink-retry-base-ms N, --sink-retry-max-ms N   activity-log sink delivery timing
  --audit-key-file F  WARDEN_AUDIT_KEY_FILE (Ed25519 key signing retention checkpoints)
  --retention-interval-ms N  WARDEN_RETENTION_INTERVAL_MS (how often activity-log retention runs)
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
    case undefined:
    case 'help':
      console.log(USAGE);
      return command ? 0 : 2;
    default:
      console.error(`warden: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

/** `warden migrate [--json]`: each migration on a terminal as it runs; one JSON line with --json. */
async function runMigrate(config: WardenConfig, flags: Record<string, string>): Promise<number> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
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
  const db = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, cache: servingCache(config) });
  const releaseDataDir = config.databaseUrl ? () => undefined : markDataDirInUse(config.dataDir);
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
