/**
 * An invite, start to finish, in a real browser and through a real SMTP server (smtp-server, with
 * STARTTLS and a login): the inviter sees the link once, the invitee gets it by email, opens the
 * accept page, picks a name and a password and is a signed-in member. An unknown invite says so.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { selfSignedCertificate } from '../helpers/certificates.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { newOrganization, type Org } from '../helpers/world.js';
import { launch, logIn, screenshot, visit } from './browser.js';

interface Received {
  from: string | undefined;
  to: string[];
  secure: boolean;
  user: string | undefined;
  raw: string;
}

const dir = mkdtempSync(join(tmpdir(), 'warden-smtp-'));
const received: Received[] = [];
let smtp: SMTPServer;
let server: TestServer;
let browser: Browser;
let org: Org;

beforeAll(async () => {
  const { cert, key } = selfSignedCertificate('localhost');
  writeFileSync(join(dir, 'ca.pem'), cert);
  smtp = new SMTPServer({
    key,
    cert,
    authMethods: ['PLAIN', 'LOGIN'],
    // Without TLS the server refuses the login: a delivered message proves STARTTLS happened.
    allowInsecureAuth: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'warden' && auth.password === 'smtp secret') return callback(null, { user: auth.username });
      callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
    logger: false,
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  const port = (smtp.server.address() as { port: number }).port;
  server = await startServer({
    smtp: {
      host: 'localhost',
      port,
      tls: 'starttls',
      user: 'warden',
      password: 'smtp secret',
      from: 'Warden <warden@acme.example>',
      caFile: join(dir, 'ca.pem'),
    },
  });
  browser = await launch();
  org = await newOrganization(server.url, 'Acme');
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (smtp) await new Promise<void>((resolve) => smtp.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** The text of a received message: headers unfolded, quoted-printable decoded. */
function textOf(raw: string): { headers: string; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  let body = raw.slice(split + 4);
  if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
    body = Buffer.from(
      body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
  }
  return { headers, body };
}

describe('SMTP settings', () => {
  it('need a sender, a known TLS mode and both credentials, and leave email off without a host', () => {
    expect(loadConfig({}, {}).smtp).toBeUndefined();
    expect(loadConfig({}, { WARDEN_SMTP_HOST: 'mail.example', WARDEN_SMTP_FROM: 'w@example.com' }).smtp).toMatchObject({ port: 587, tls: 'starttls' });
    expect(loadConfig({}, { WARDEN_SMTP_HOST: 'mail.example', WARDEN_SMTP_FROM: 'w@example.com', WARDEN_SMTP_TLS: 'tls' }).smtp?.port).toBe(465);
    expect(() => loadConfig({}, { WARDEN_SMTP_HOST: 'mail.example' })).toThrow(/WARDEN_SMTP_FROM/);
    expect(() => loadConfig({}, { WARDEN_SMTP_HOST: 'mail.example', WARDEN_SMTP_FROM: 'w@example.com', WARDEN_SMTP_TLS: 'maybe' })).toThrow(/WARDEN_SMTP_TLS/);
    expect(() => loadConfig({}, { WARDEN_SMTP_HOST: 'mail.example', WARDEN_SMTP_FROM: 'w@example.com', WARDEN_SMTP_USER: 'u' })).toThrow(/go together/);
  });
});

describe('inviting someone', () => {
  it('shows the link once, emails it, and the accept page makes a signed-in member', async () => {
    const owner = await visit(browser, server.url);
    await logIn(owner.page, org.owner.user.email);
    // An error that names a field is shown at that field, and goes when the next try succeeds.
    const email = owner.page.getByLabel('Email', { exact: true });
    await email.fill(org.owner.user.email);
    await owner.page.getByRole('button', { name: 'Send invite' }).click();
    await owner.page.locator('.field-error').waitFor();
    expect(await owner.page.locator('.field-error').textContent()).toBe('A user with this email address already belongs to the organization.');
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await owner.page.locator('body').textContent()).not.toContain('(field:');
    expect(await owner.page.getByRole('alert').count()).toBe(1);
    await screenshot(owner.page, 'invite-field-error');
    await email.fill('bob@acme.example');
    await owner.page.getByRole('button', { name: 'Send invite' }).click();
    const panel = owner.page.getByRole('region', { name: 'Invite link for bob@acme.example' });
    await panel.waitFor();
    expect(await owner.page.locator('.field-error').count()).toBe(0);
    const link = await panel.getByLabel('Invite link').inputValue();
    expect(link).toMatch(new RegExp(`^${server.url}/signup/[0-9a-f-]{36}$`));
    expect(await panel.textContent()).toContain('on its way to them by email');
    await screenshot(owner.page, 'invite-link');
    // Dismissed, it is gone; the pending invite stays listed.
    await panel.getByRole('button', { name: 'Done' }).click();
    expect(await panel.count()).toBe(0);
    await owner.page.getByRole('button', { name: 'Cancel the invite for bob@acme.example' }).waitFor();
    // The success message goes once the inviter types again: no message outlives what it was about.
    await owner.page.getByRole('status').filter({ hasText: 'Invited bob@acme.example.' }).waitFor();
    await email.fill('next@acme.example');
    await expect.poll(() => owner.page.getByText('Invited bob@acme.example.').count()).toBe(0);

    // The email: over STARTTLS, logged in, from the configured sender, with the same link.
    const deadline = Date.now() + 15_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(received).toHaveLength(1);
    const mail = received[0]!;
    expect(mail).toMatchObject({ from: 'warden@acme.example', to: ['bob@acme.example'], secure: true, user: 'warden' });
    const { headers, body } = textOf(mail.raw);
    expect(headers).toMatch(/^From: Warden <warden@acme\.example>$/m);
    expect(headers).toMatch(/^Subject: Olive invited you to join Acme on Warden$/m);
    expect(body).toContain(link);

    // The invitee opens the link: the accept page, then the console, signed in as a member.
    const bob = await visit(browser, server.url);
    await bob.page.goto(link);
    await bob.page.getByRole('heading', { level: 1, name: 'Join Acme on Warden' }).waitFor();
    const form = bob.page.getByRole('form', { name: 'Create your account' });
    expect(await form.getByLabel('Email').inputValue()).toBe('bob@acme.example');
    await form.getByLabel('Your name').fill('Bob');
    await form.getByLabel('Password').fill('short');
    await form.getByRole('button', { name: 'Join Acme' }).click();
    await form.locator('.field-error').waitFor();
    expect(await form.locator('.field-error').textContent()).toMatch(/password/i);
    expect(await form.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    await form.getByLabel('Password').fill('a long enough password');
    await screenshot(bob.page, 'invite-accept');
    await form.getByRole('button', { name: 'Join Acme' }).click();
    await bob.page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    await bob.page.getByText('bob@acme.example', { exact: true }).first().waitFor();
    const members = await org.owner.client.get(`/api/organizations/${org.id}/members/`);
    expect(members.body.results.find((m: any) => m.user.email === 'bob@acme.example')).toMatchObject({ level: 1, user: { first_name: 'Bob' } });

    // The link is used up: opening it again says so in the API's words.
    const again = await visit(browser, server.url);
    await again.page.goto(link);
    await again.page.getByRole('alert').waitFor();
    const answer = await org.owner.client.anonymous().get(new URL(link).pathname.replace('/signup/', '/api/signup/') + '/');
    expect(await again.page.getByRole('alert').textContent()).toContain(answer.body.detail);
    await again.page.goto(`/signup/${randomUUID()}`);
    await again.page.getByText('The provided invite ID is not valid.').waitFor();

    for (const v of [owner, bob, again]) {
      expect(v.problems).toEqual([]);
      await v.context.close();
    }
  });
});
