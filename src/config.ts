import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readConfigFile } from './config-file.js';
import { parseOutboundAllow } from './net/outbound-policy.js';
import { DEFAULT_POSTGRES_SETTINGS } from './store/postgres-driver.js';
import { smtpConfig, type SmtpConfig } from './config-smtp.js';
/** Warden's runtime configuration: flags, with WARDEN_* environment variables as defaults. */
export interface WardenConfig {
  host: string;
  port: number;
  /** Embedded database directory (ignored when databaseUrl is set). */
  dataDir: string;
  databaseUrl: string | undefined;
  /** Let anyone sign up after the first user (otherwise only through invites). */
  openSignup: boolean;
  /** Secure flag on cookies: 'auto' sets it when the request came over https. */
  secureCookies: 'auto' | 'always' | 'never';
  /** Trust X-Forwarded-* headers from a reverse proxy (needed for 'auto' behind a TLS terminator). */
  trustProxy: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  logLevel: string;
  /** The address users and identity providers reach Warden at (SAML/OIDC redirect and metadata URLs). */
  publicUrl: string;
  /** DNS servers ("ip" or "ip:port") that domain verification asks; empty = the system's resolver. */
  dnsServers: string[];
  /** Bearer token that /metrics requires; unset = /metrics is off. */
  metricsToken: string | undefined;
  /** Rate limits on login, sign-up, invite acceptance, failed key and SCIM authentications. */
  rateLimits: boolean;
  /** Serve the authorization hot path from memory, invalidated by what changes (src/cache/). */
  accessCache: boolean;
  /** Most facts of one kind (keys, sessions, project access, …) the access cache holds. */
  cacheMaxEntries: number;
  /**
   * Destinations of server-side requests (SAML metadata, OIDC, activity-log sinks) allowed besides
   * public https addresses: host names, addresses or CIDR ranges (src/net/outbound-policy.ts).
   */
  outboundAllow: string[];
  /** Postgres: longest wait to open a connection (or for a free one in the pool). */
  dbConnectTimeoutMs: number;
  /** Postgres: longest one statement may run (server-side statement_timeout; the client waits 1 s more). */
  dbStatementTimeoutMs: number;
  /** Extra CA certificate (PEM) trusted for OIDC providers (discovery, token, keys, userinfo), on top of the system's. */
  oidcCaFile: string | undefined;
  /** Extra CA certificate (PEM) trusted for activity-log sinks, on top of the system's. */
  sinkCaFile: string | undefined;
  /** How often each node looks for activity-log sinks with entries to deliver. */
  sinkPollMs: number;
  /** First retry delay of a failing sink; doubles per failure up to sinkRetryMaxMs. */
  sinkRetryBaseMs: number;
  sinkRetryMaxMs: number;
  /** Ed25519 private key (PEM) that signs retention checkpoints; created on first use. */
  auditKeyFile: string;
  /** How often activity-log retention runs. */
  retentionIntervalMs: number;
  /** Origins whose pages may call the management API (/api/…) cross-origin; none by default. */
  corsOrigins: string[];
  /** Where invite emails are sent through (src/config-smtp.ts); undefined: none are sent. */
  smtp: SmtpConfig | undefined;
  /**
   * Processes `warden serve` runs (node:cluster, one port; src/cli/workers.ts). `auto`: the
   * machine's cores on Postgres, 1 on the embedded database (one process only).
   */
  workers: number;
}

export class ConfigError extends Error {}

/** Every setting's flag name: what a configuration file may set. */
export const CONFIG_FLAGS: ReadonlySet<string> = new Set([
  'host',
  'port',
  'data-dir',
  'database-url',
  'open-signup',
  'secure-cookies',
  'trust-proxy',
  'body-limit',
  'log-level',
  'public-url',
  'dns-servers',
  'metrics-token',
  'rate-limits',
  'access-cache',
  'cache-max-entries',
  'outbound-allow',
  'db-connect-timeout-ms',
  'db-statement-timeout-ms',
  'oidc-ca-file',
  'sink-ca-file',
  'sink-poll-ms',
  'sink-retry-base-ms',
  'sink-retry-max-ms',
  'audit-key-file',
  'retention-interval-ms',
  'cors-origins',
  'smtp-host',
  'smtp-port',
  'smtp-tls',
  'smtp-user',
  'smtp-password',
  'smtp-from',
  'smtp-ca-file',
  'workers',
]);

function bool(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, not "${value}".`);
}

function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${value}".`);
  }
  return Number(value);
}

/** Builds the configuration from parsed flags (kebab-case) over the environment. */
export function loadConfig(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = process.env): WardenConfig {
  const configPath = flags.config ?? env.WARDEN_CONFIG;
  const file = configPath ? readConfigFile(configPath, CONFIG_FLAGS, (m) => new ConfigError(m)) : {};
  const pick = (flag: string, envName: string) => flags[flag] ?? env[envName] ?? file[flag];
  const secureCookies = pick('secure-cookies', 'WARDEN_SECURE_COOKIES') ?? 'auto';
  if (!['auto', 'always', 'never'].includes(secureCookies)) {
    throw new ConfigError(`WARDEN_SECURE_COOKIES must be auto, always or never, not "${secureCookies}".`);
  }
  const databaseUrl = pick('database-url', 'DATABASE_URL') || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://.');
  }
  const dataDir = pick('data-dir', 'WARDEN_DATA_DIR') ?? './.warden';
  return {
    host: pick('host', 'WARDEN_HOST') ?? '127.0.0.1',
    port: int('WARDEN_PORT', pick('port', 'WARDEN_PORT'), 8000, 0, 65535),
    dataDir,
    databaseUrl,
    openSignup: bool('WARDEN_OPEN_SIGNUP', pick('open-signup', 'WARDEN_OPEN_SIGNUP'), false),
    secureCookies: secureCookies as WardenConfig['secureCookies'],
    trustProxy: bool('WARDEN_TRUST_PROXY', pick('trust-proxy', 'WARDEN_TRUST_PROXY'), false),
    bodyLimit: int('WARDEN_BODY_LIMIT', pick('body-limit', 'WARDEN_BODY_LIMIT'), 1_048_576, 1024, 100 * 1_048_576),
    logLevel: pick('log-level', 'WARDEN_LOG_LEVEL') ?? 'info',
    publicUrl: publicUrl(pick('public-url', 'WARDEN_PUBLIC_URL')),
    dnsServers: dnsServers(pick('dns-servers', 'WARDEN_DNS_SERVERS')),
    metricsToken: metricsToken(pick('metrics-token', 'WARDEN_METRICS_TOKEN')),
    rateLimits: bool('WARDEN_RATE_LIMITS', pick('rate-limits', 'WARDEN_RATE_LIMITS'), true),
    accessCache: bool('WARDEN_ACCESS_CACHE', pick('access-cache', 'WARDEN_ACCESS_CACHE'), true),
    cacheMaxEntries: int('WARDEN_CACHE_MAX_ENTRIES', pick('cache-max-entries', 'WARDEN_CACHE_MAX_ENTRIES'), 100_000, 100, 10_000_000),
    outboundAllow: outboundAllow(pick('outbound-allow', 'WARDEN_OUTBOUND_ALLOW')),
    dbConnectTimeoutMs: int(
      'WARDEN_DB_CONNECT_TIMEOUT_MS',
      pick('db-connect-timeout-ms', 'WARDEN_DB_CONNECT_TIMEOUT_MS'),
      DEFAULT_POSTGRES_SETTINGS.connectTimeoutMs,
      100,
      600_000,
    ),
    dbStatementTimeoutMs: int(
      'WARDEN_DB_STATEMENT_TIMEOUT_MS',
      pick('db-statement-timeout-ms', 'WARDEN_DB_STATEMENT_TIMEOUT_MS'),
      DEFAULT_POSTGRES_SETTINGS.statementTimeoutMs,
      100,
      3_600_000,
    ),
    oidcCaFile: caFile('WARDEN_OIDC_CA_FILE', pick('oidc-ca-file', 'WARDEN_OIDC_CA_FILE')),
    ...activityLogConfig(pick, dataDir),
    corsOrigins: corsOrigins(pick('cors-origins', 'WARDEN_CORS_ORIGINS')),
    smtp: smtpConfig(pick, (m) => new ConfigError(m)),
    workers: workers(pick('workers', 'WARDEN_WORKERS'), databaseUrl),
  };
}

/** A whole number of processes, or `auto`: every core on Postgres, one on the embedded database. */
function workers(value: string | undefined, databaseUrl: string | undefined): number {
  if (value?.trim().toLowerCase() === 'auto') return databaseUrl ? availableParallelism() : 1;
  if (value !== undefined && value !== '' && !/^\d+$/.test(value)) {
    throw new ConfigError(`WARDEN_WORKERS must be auto or a whole number from 1 to 1024, not "${value}".`);
  }
  return int('WARDEN_WORKERS', value, 1, 1, 1024);
}

function publicUrl(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`WARDEN_PUBLIC_URL must be an absolute http(s) URL, not "${value}".`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`WARDEN_PUBLIC_URL must be an absolute http(s) URL, not "${value}".`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** `https://app.example.com,http://localhost:3000`: origins only (scheme, host, port; no path). */
function corsOrigins(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((origin) => {
      let url: URL | undefined;
      try {
        url = new URL(origin);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin.replace(/\/$/, '')) {
        throw new ConfigError(`WARDEN_CORS_ORIGINS must be a comma-separated list of origins (https://host[:port]), not "${origin}".`);
      }
      return url.origin;
    });
}

function caFile(name: string, value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!existsSync(value)) throw new ConfigError(`${name}: no such file "${value}".`);
  return value;
}

function outboundAllow(value: string | undefined): string[] {
  const entries = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    parseOutboundAllow(entries);
  } catch (err) {
    throw new ConfigError(`WARDEN_OUTBOUND_ALLOW must be a comma-separated list of host names, addresses or CIDR ranges: ${(err as Error).message}.`);
  }
  return entries;
}

function dnsServers(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  const servers = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const server of servers) {
    if (!/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\])(:\d{1,5})?$/i.test(server)) {
      throw new ConfigError(`WARDEN_DNS_SERVERS must be a comma-separated list of ip or ip:port, not "${value}".`);
    }
  }
  return servers;
}

/** The activity log's sinks, retention and checkpoint signing key. */
function activityLogConfig(pick: (flag: string, envName: string) => string | undefined, dataDir: string) {
  const sinkCaFile = pick('sink-ca-file', 'WARDEN_SINK_CA_FILE') || undefined;
  if (sinkCaFile && !existsSync(sinkCaFile)) throw new ConfigError(`WARDEN_SINK_CA_FILE: no such file "${sinkCaFile}".`);
  const hour = 3_600_000;
  const sinkRetryBaseMs = int('WARDEN_SINK_RETRY_BASE_MS', pick('sink-retry-base-ms', 'WARDEN_SINK_RETRY_BASE_MS'), 1000, 1, hour);
  return {
    sinkCaFile,
    sinkPollMs: int('WARDEN_SINK_POLL_MS', pick('sink-poll-ms', 'WARDEN_SINK_POLL_MS'), 1000, 10, hour),
    sinkRetryBaseMs,
    sinkRetryMaxMs: int('WARDEN_SINK_RETRY_MAX_MS', pick('sink-retry-max-ms', 'WARDEN_SINK_RETRY_MAX_MS'), 300_000, sinkRetryBaseMs, 24 * hour),
    auditKeyFile: pick('audit-key-file', 'WARDEN_AUDIT_KEY_FILE') || join(dataDir, 'audit-signing-key.pem'),
    retentionIntervalMs: int('WARDEN_RETENTION_INTERVAL_MS', pick('retention-interval-ms', 'WARDEN_RETENTION_INTERVAL_MS'), hour, 10, 24 * hour),
  };
}

function metricsToken(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length < 16) throw new ConfigError('WARDEN_METRICS_TOKEN must be at least 16 characters.');
  return value;
}
