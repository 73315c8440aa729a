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
}

export class ConfigError extends Error {}

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
  const pick = (flag: string, envName: string) => flags[flag] ?? env[envName];
  const secureCookies = pick('secure-cookies', 'WARDEN_SECURE_COOKIES') ?? 'auto';
  if (!['auto', 'always', 'never'].includes(secureCookies)) {
    throw new ConfigError(`WARDEN_SECURE_COOKIES must be auto, always or never, not "${secureCookies}".`);
  }
  const databaseUrl = pick('database-url', 'DATABASE_URL') || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://.');
  }
  return {
    host: pick('host', 'WARDEN_HOST') ?? '127.0.0.1',
    port: int('WARDEN_PORT', pick('port', 'WARDEN_PORT'), 8000, 0, 65535),
    dataDir: pick('data-dir', 'WARDEN_DATA_DIR') ?? './.warden',
    databaseUrl,
    openSignup: bool('WARDEN_OPEN_SIGNUP', pick('open-signup', 'WARDEN_OPEN_SIGNUP'), false),
    secureCookies: secureCookies as WardenConfig['secureCookies'],
    trustProxy: bool('WARDEN_TRUST_PROXY', pick('trust-proxy', 'WARDEN_TRUST_PROXY'), false),
    bodyLimit: int('WARDEN_BODY_LIMIT', pick('body-limit', 'WARDEN_BODY_LIMIT'), 1_048_576, 1024, 100 * 1_048_576),
    logLevel: pick('log-level', 'WARDEN_LOG_LEVEL') ?? 'info',
  };
}
