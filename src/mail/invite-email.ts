import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { SmtpConfig } from '../config-smtp.js';

/**
 * Invite emails, sent through the operator's SMTP server (WARDEN_SMTP_*): the link to the
 * invite's accept page, who sent it, for which organization, until when. TLS is required unless
 * the operator says `none`; the connection and each step are bounded, so a dead server costs an
 * invite its email, never the invite.
 */

export interface InviteEmail {
  to: string;
  link: string;
  organizationName: string;
  inviterName: string;
  expiresAt: Date;
  message: string | null;
}

const TIMEOUT_MS = 10_000;

export function mailTransport(smtp: SmtpConfig) {
  return nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.tls === 'tls',
    requireTLS: smtp.tls === 'starttls',
    ignoreTLS: smtp.tls === 'none',
    ...(smtp.user !== undefined ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    tls: { servername: smtp.host, ...(smtp.caFile ? { ca: [readFileSync(smtp.caFile, 'utf8')] } : {}) },
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
}

/** The message: plain text only (nothing a mail client could render as markup). */
export function inviteMessage(smtp: SmtpConfig, invite: InviteEmail) {
  const lines = [
    `${invite.inviterName} invited you to join ${invite.organizationName} on Warden.`,
    '',
    'Accept the invite here:',
    invite.link,
    '',
    `The link works until ${invite.expiresAt.toUTCString()}.`,
  ];
  if (invite.message) lines.push('', `${invite.inviterName} wrote:`, invite.message);
  lines.push('', 'If you did not expect this invite, you can ignore this email.');
  return {
    from: smtp.from,
    to: invite.to,
    subject: `${invite.inviterName} invited you to join ${invite.organizationName} on Warden`,
    text: `${lines.join('\n')}\n`,
  };
}

export async function sendInviteEmail(smtp: SmtpConfig, invite: InviteEmail): Promise<void> {
  const transport = mailTransport(smtp);
  try {
    await transport.sendMail(inviteMessage(smtp, invite));
  } finally {
    transport.close();
  }
}
