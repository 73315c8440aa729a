import type { WardenConfig } from '../config.js';

/** Settings whose values are secrets: shown only as set or not. */
const SECRET_KEYS = new Set<keyof WardenConfig>(['metricsToken']);

/** The effective configuration with secrets masked (a database URL keeps everything but its password). */
export function maskedConfig(config: WardenConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config) as Array<[keyof WardenConfig, unknown]>) {
    if (SECRET_KEYS.has(key)) out[key] = value ? '********' : null;
    else if (key === 'databaseUrl' && typeof value === 'string') out[key] = maskUrlPassword(value);
    else if (key === 'smtp' && value) out[key] = { ...(value as object), password: (value as { password?: string }).password ? '********' : null };
    else out[key] = value ?? null;
  }
  return out;
}

function maskUrlPassword(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '********';
    return url.toString();
  } catch {
    return '********';
  }
}

/** `warden config print [--json]`: what the server would run with, from flags, environment and file. */
export function runConfig(config: WardenConfig, sub: string | undefined, flags: Record<string, string>): number {
  if (sub !== 'print') {
    console.error('warden config: usage: warden config print [--json] [--config FILE]');
    return 2;
  }
  const masked = maskedConfig(config);
  if (flags.json) {
    console.log(JSON.stringify(masked, null, 2));
  } else {
    const width = Math.max(...Object.keys(masked).map((k) => k.length));
    for (const [key, value] of Object.entries(masked)) {
      console.log(`${key.padEnd(width)}  ${Array.isArray(value) ? value.join(',') : value === null ? '-' : String(value)}`);
    }
  }
  return 0;
}
