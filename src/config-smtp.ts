import { existsSync } from 'node:fs';

/** Where invite emails go: an SMTP server, how to reach it safely, and who they are from. */
export interface SmtpConfig {
  host: string;
  port: number;
  /** starttls: plain connection upgraded to TLS, required; tls: TLS from the first byte; none: no TLS (local relays). */
  tls: 'starttls' | 'tls' | 'none';
  user: string | undefined;
  password: string | undefined;
  /** The sender, `Name <address>` or an address. */
  from: string;
  /** Extra CA certificate (PEM) trusted for the SMTP server, besides the system's. */
  caFile: string | undefined;
}

type Pick = (flag: string, envName: string) => string | undefined;

/** The SMTP settings, or undefined when no host is set (then no email is sent). */
export function smtpConfig(pick: Pick, fail: (message: string) => Error): SmtpConfig | undefined {
  const host = pick('smtp-host', 'WARDEN_SMTP_HOST')?.trim();
  if (!host) return undefined;
  const tls = (pick('smtp-tls', 'WARDEN_SMTP_TLS') || 'starttls').toLowerCase();
  if (tls !== 'starttls' && tls !== 'tls' && tls !== 'none') throw fail(`WARDEN_SMTP_TLS must be starttls, tls or none, not "${tls}".`);
  const portText = pick('smtp-port', 'WARDEN_SMTP_PORT');
  const port = portText ? Number(portText) : tls === 'tls' ? 465 : 587;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw fail(`WARDEN_SMTP_PORT must be a port number, not "${portText}".`);
  const from = pick('smtp-from', 'WARDEN_SMTP_FROM')?.trim();
  if (!from || !/^[^<>@\s]+@[^<>@\s]+$|<[^<>@\s]+@[^<>@\s]+>$/.test(from)) {
    throw fail('WARDEN_SMTP_FROM must be the sender\'s address ("warden@example.com" or "Warden <warden@example.com>") when WARDEN_SMTP_HOST is set.');
  }
  const user = pick('smtp-user', 'WARDEN_SMTP_USER') || undefined;
  const password = pick('smtp-password', 'WARDEN_SMTP_PASSWORD') || undefined;
  if ((user === undefined) !== (password === undefined)) throw fail('WARDEN_SMTP_USER and WARDEN_SMTP_PASSWORD go together.');
  const caFile = pick('smtp-ca-file', 'WARDEN_SMTP_CA_FILE') || undefined;
  if (caFile && !existsSync(caFile)) throw fail(`WARDEN_SMTP_CA_FILE: no such file "${caFile}".`);
  return { host, port, tls, user, password, from, caFile };
}
