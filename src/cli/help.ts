import { CONFIG_FLAGS } from '../config.js';

/**
 * What each command of `warden` is called with: its usage line, what it does, its own options, and
 * whether it takes the server settings (CONFIG_FLAGS). `--help`/`-h` anywhere prints the help of the
 * command it follows and nothing else happens; an unknown option or a stray word is a usage error
 * (exit 2, the usage line on stderr), checked before anything is opened.
 */
export interface CommandSpec {
  usage: string;
  summary: string;
  options?: string;
  /** Its own options (flag names); the server settings come on top when `settings` is set. */
  flags: readonly string[];
  settings: boolean;
}

const DB_NOTE = 'Opens the database named by --database-url / DATABASE_URL, else the embedded one in --data-dir.';

export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  serve: {
    usage: 'warden serve [options]',
    summary: 'Start the server (the API and the admin console) on the embedded database, or DATABASE_URL.',
    options: 'Every server setting below, as a flag, an environment variable or a key of the --config file.',
    flags: [],
    settings: true,
  },
  bootstrap: {
    usage: 'warden bootstrap --email E --password P --organization NAME [--first-name N] [--json]',
    summary:
      'First run for scripts: creates the owner, the organization, its first project and an all-scopes\npersonal API key (shown once). Refuses (exit 1, nothing changed) when the instance has users.',
    flags: ['email', 'password', 'organization', 'first-name', 'json'],
    settings: true,
  },
  migrate: {
    usage: 'warden migrate [--json]',
    summary: `Apply the database migrations and exit. ${DB_NOTE}`,
    flags: ['json'],
    settings: true,
  },
  backup: {
    usage: 'warden backup --out FILE [--data-dir D] [--json]',
    summary: 'Write the embedded database to FILE (the server stopped). On Postgres use pg_dump.',
    flags: ['out', 'json'],
    settings: true,
  },
  restore: {
    usage: 'warden restore --from FILE [--data-dir D] [--replace] [--json]',
    summary: 'Restore a backup into the data directory (the server stopped); --replace overwrites an existing one.',
    flags: ['from', 'replace', 'json'],
    settings: true,
  },
  'audit verify': {
    usage: 'warden audit verify [--organization ID]',
    summary: "Check the activity log's hash chains (and retention checkpoints); exit 0 intact, 1 on tampering.",
    flags: ['organization'],
    settings: true,
  },
  'audit export': {
    usage: 'warden audit export --organization ID --out FILE [--format ndjson|csv] [--after ISO] [--before ISO] [--json]',
    summary: "Write an organization's whole activity log, oldest first, to FILE.",
    flags: ['organization', 'out', 'format', 'after', 'before', 'json'],
    settings: true,
  },
  'config print': {
    usage: 'warden config print [--json] [--config FILE]',
    summary: 'Show the effective configuration (flags over environment over file), secrets masked.',
    flags: ['json'],
    settings: true,
  },
  'domains verify': {
    usage: 'warden domains verify --domain D [--organization ID]',
    summary:
      "Mark an organization's domain verified without DNS (air-gapped installs); logged as a system action.\nWhen several organizations have claimed the domain unverified, --organization names the one.",
    flags: ['domain', 'organization'],
    settings: true,
  },
  matrix: {
    usage: 'warden matrix <plan|apply|check> FILE [options] | warden matrix export [--out FILE] [options]',
    summary: 'The access matrix as code, over the API of a running server (see warden matrix help).',
    flags: ['url', 'api-key', 'organization', 'json', 'out', 'secrets-out', 'dry-run'],
    settings: false,
  },
};

/** Commands that are only a group of subcommands. */
export const GROUPS: Readonly<Record<string, readonly string[]>> = {
  audit: ['verify', 'export'],
  config: ['print'],
  domains: ['verify'],
};

export const SETTINGS_HELP = `Server settings (each also an environment variable, or a key of the --config / WARDEN_CONFIG file):
  --config F        WARDEN_CONFIG      (a YAML or JSON file of these settings; flags and env override it)
  --host H          WARDEN_HOST        (default 127.0.0.1)
  --port N          WARDEN_PORT        (default 8000)
  --workers N       WARDEN_WORKERS     (serve: processes sharing the port, or auto = every core; Postgres only
                    above 1, the embedded database is one process; default 1)
  --data-dir D      WARDEN_DATA_DIR    (default ./.warden; the embedded database lives here)
  --database-url U  DATABASE_URL       (postgres://...; use a Postgres server instead)
  --open-signup     WARDEN_OPEN_SIGNUP (let anyone sign up after the first user)
  --secure-cookies  WARDEN_SECURE_COOKIES (auto|always|never; default auto)
  --trust-proxy     WARDEN_TRUST_PROXY (trust X-Forwarded-* from a reverse proxy)
  --body-limit N    WARDEN_BODY_LIMIT  (largest request body in bytes; default 1048576)
  --log-level L     WARDEN_LOG_LEVEL   (default info)
  --public-url U    WARDEN_PUBLIC_URL  (where users and identity providers reach Warden; default: the listen address)
  --dns-servers S   WARDEN_DNS_SERVERS (ip[:port],... asked for domain verification; default: the system's)
  --metrics-token T WARDEN_METRICS_TOKEN (enables GET /metrics for this bearer token; off without it)
  --cors-origins O  WARDEN_CORS_ORIGINS (origins allowed to call /api/ cross-origin; the SDK routes allow any)
  --rate-limits B   WARDEN_RATE_LIMITS (default true: 429s on login, sign-up, invites, failed key/SCIM auth)
  --access-cache B  WARDEN_ACCESS_CACHE (default true: the authorization hot path served from memory)
  --cache-max-entries N  WARDEN_CACHE_MAX_ENTRIES (default 100000: facts of one kind the cache holds)
  --outbound-allow A  WARDEN_OUTBOUND_ALLOW (hosts, addresses or CIDR ranges server-side requests may reach
                    besides public https addresses: local IdPs, sinks)
  --db-connect-timeout-ms N, --db-statement-timeout-ms N   Postgres waits before a 503 (defaults 5000, 10000)
  --oidc-ca-file F  WARDEN_OIDC_CA_FILE (extra CA trusted for OIDC providers)
  --sink-ca-file F  WARDEN_SINK_CA_FILE (extra CA trusted for activity-log sinks)
  --sink-poll-ms N, --sink-retry-base-ms N, --sink-retry-max-ms N   activity-log sink delivery timing
  --audit-key-file F  WARDEN_AUDIT_KEY_FILE (Ed25519 key signing retention checkpoints)
  --retention-interval-ms N  WARDEN_RETENTION_INTERVAL_MS (how often activity-log retention runs)
  --smtp-host H     WARDEN_SMTP_HOST   (send invite emails through this SMTP server; off without it)
  --smtp-port N     WARDEN_SMTP_PORT   (default 587, or 465 with --smtp-tls tls)
  --smtp-tls M      WARDEN_SMTP_TLS    (starttls: required, the default | tls: implicit TLS | none: plain, local relays only)
  --smtp-user U, --smtp-password P   WARDEN_SMTP_USER, WARDEN_SMTP_PASSWORD (credentials, when the server wants them)
  --smtp-from A     WARDEN_SMTP_FROM   (the sender, e.g. "Warden <warden@example.com>"; required with --smtp-host)
  --smtp-ca-file F  WARDEN_SMTP_CA_FILE (extra CA trusted for the SMTP server)`;

export const USAGE = `Usage: warden <command> [options]        warden <command> --help: that command's help

Commands:
  serve           Start the server (embedded database, or DATABASE_URL)
  bootstrap       First run for scripts: --email E --password P --organization NAME [--first-name N] [--json]
  migrate         Apply database migrations and exit [--json]
  audit verify    Check the activity log's hash chains: [--organization ID]; exits 1 on tampering
  audit export    An organization's activity log to a file: --organization ID --out FILE [--format ndjson|csv] [--json]
  backup          Write the embedded database to a file (server stopped): --out FILE [--json]
  restore         Restore a backup into the data directory (server stopped): --from FILE [--replace] [--json]
  config print    Show the effective configuration (secrets masked) [--json]
  domains verify  Mark an organization's domain verified without DNS (air-gapped installs): --domain D
  matrix plan|apply|check FILE, matrix export  The access matrix as code, over the API of a running server
  help [command]  This help, or a command's

${SETTINGS_HELP}
`;

/** A command's full help. */
export function commandHelp(name: string): string {
  const spec = COMMANDS[name]!;
  const lines = [`Usage: ${spec.usage}`, '', spec.summary];
  if (spec.options) lines.push('', spec.options);
  if (spec.settings) lines.push('', SETTINGS_HELP);
  return `${lines.join('\n')}\n`;
}

export function groupHelp(group: string): string {
  const subs = GROUPS[group]!.map(
    (sub) => `  ${COMMANDS[`${group} ${sub}`]!.usage}\n      ${COMMANDS[`${group} ${sub}`]!.summary.split('\n').join('\n      ')}`,
  );
  return `Usage: warden ${group} <${GROUPS[group]!.join('|')}> [options]\n\n${subs.join('\n')}\n\nwarden ${group} <subcommand> --help: its options.\n`;
}

/** The command a list of words names ("audit verify", "serve"), the group it stops at ("audit"), or nothing. */
export function resolveCommand(words: readonly string[]): { command?: string; group?: string } {
  const [first, second] = words;
  if (first === undefined) return {};
  if (GROUPS[first]) {
    if (second !== undefined && GROUPS[first]!.includes(second)) return { command: `${first} ${second}` };
    return { group: first };
  }
  return COMMANDS[first] ? { command: first } : {};
}

/** The flags a command takes; the first it does not, if any. */
export function unknownFlag(command: string, flags: Record<string, string>): string | undefined {
  const spec = COMMANDS[command]!;
  const known = new Set([...spec.flags, ...(spec.settings ? [...CONFIG_FLAGS, 'config'] : [])]);
  return Object.keys(flags).find((name) => !known.has(name));
}
