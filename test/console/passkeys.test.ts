/**
 * Passkeys in the real browser: Chromium's virtual authenticator (the DevTools protocol's WebAuthn
 * domain) stands in for the device. Registered, renamed and removed in the console; used to sign in
 * without a password and as the second factor after one; a replayed assertion and someone else's
 * passkey are refused and recorded.
 */
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastSeq, rowsSince } from '../helpers/activity.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, newOrganization, PASSWORD, type Org, type Person } from '../helpers/world.js';
import { launch, screenshot, visit } from './browser.js';

let server: TestServer;
let browser: Browser;
let org: Org;
let member: Person;
/** WebAuthn needs a domain: the console is visited at localhost, Warden's public URL. */
let site: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
  site = server.url.replace('127.0.0.1', 'localhost');
  server.config.publicUrl = site;
  org = await newOrganization(server.url, 'Acme');
  member = await addMember(org, 1);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function signInWithPassword(page: Page, email: string): Promise<void> {
  await page.goto('/signin');
  const form = page.getByRole('form', { name: 'With your password' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Log in' }).click();
}

const members = (page: Page) => page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
const logOut = async (page: Page) => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Log in to Warden' }).waitFor();
};
const newestSession = async (userId: number) =>
  (
    await server.db.query<{ auth_method: string; second_factor: string | null }>(
      'SELECT auth_method, second_factor FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1',
      [userId],
    )
  )[0];

describe('passkeys', () => {
  it('registers, renames and removes a passkey, signs in with it alone and as a second factor, and refuses replays and other people’s', async () => {
    const { page, context, problems } = await visit(browser, site);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const start = await lastSeq(server.db);

    await signInWithPassword(page, org.owner.user.email);
    await members(page);
    await page.goto('/security');
    await page.getByRole('heading', { level: 1, name: 'Sign-in security' }).waitFor();
    const add = page.getByRole('form', { name: 'Add a passkey' });
    await add.getByLabel('Passkey name').fill('Laptop');
    await add.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('status').filter({ hasText: 'Passkey Laptop added.' }).waitFor();
    await page.getByRole('button', { name: 'Rename Laptop' }).click();
    await page.getByRole('form', { name: 'Rename passkey' }).getByLabel('New name').fill('Work laptop');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('cell', { name: 'Work laptop', exact: true }).waitFor();
    await screenshot(page, 'sign-in-security');
    const stored = await server.db.query<{ name: string; public_key: string }>('SELECT name, public_key FROM webauthn_credentials WHERE user_id = $1', [
      org.owner.user.id,
    ]);
    expect(stored.map((r) => r.name)).toEqual(['Work laptop']);

    // Without a password. The assertion the page sent is kept, to replay it.
    await logOut(page);
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/login/passkey/') && r.method() === 'POST');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await members(page);
    expect(await newestSession(org.owner.user.id)).toEqual({ auth_method: 'passkey', second_factor: 'passkey' });
    const replayed = await new Client(site).post('/api/login/passkey/', JSON.parse((await sent).postData()!));
    expect(replayed.status).toBe(400);
    expect(replayed.body).toMatchObject({ type: 'validation_error', code: 'webauthn_challenge_invalid', attr: 'response' });

    // After the password, a passkey is the owner's second factor.
    await logOut(page);
    await signInWithPassword(page, org.owner.user.email);
    await page.getByRole('heading', { name: 'Second factor' }).waitFor();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await members(page);
    expect(await newestSession(org.owner.user.id)).toEqual({ auth_method: 'password', second_factor: 'passkey' });

    // Someone else's passkey is no second factor for the member (who has an authenticator app).
    const secret = (await member.client.post('/api/users/@me/start_2fa_setup/')).body.secret as string;
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    expect((await member.client.post('/api/users/@me/two_factor_validate/', { token: code })).status).toBe(200);
    await logOut(page);
    const beforeRefusal = await lastSeq(server.db);
    await signInWithPassword(page, member.user.email);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('alert').filter({ hasText: 'This passkey could not be verified.' }).waitFor();
    expect(await newestSession(member.user.id)).not.toMatchObject({ second_factor: 'passkey' });
    const refusals = (await rowsSince(server.db, beforeRefusal)).filter((r) => r.scope === 'Security').map((r) => r.detail.context.reason);
    expect(refusals).toEqual(['passkey_of_another_user']);

    // Back as the owner: remove it.
    await page.goto('/signin');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await members(page);
    await page.goto('/security');
    await page.getByRole('button', { name: 'Remove Work laptop' }).click();
    await page.getByRole('status').filter({ hasText: 'Passkey Work laptop removed.' }).waitFor();
    expect(await server.db.query('SELECT 1 FROM webauthn_credentials WHERE user_id = $1', [org.owner.user.id])).toEqual([]);

    const entries = (await rowsSince(server.db, start)).filter((r) => r.scope === 'User').map((r) => r.activity);
    expect(entries).toEqual(expect.arrayContaining(['passkey_added', 'passkey_renamed', 'passkey_removed']));
    const security = (await rowsSince(server.db, start)).filter((r) => r.scope === 'Security').map((r) => r.detail.context.reason);
    expect(security).toContain('challenge_invalid');
    expect(problems).toEqual([]);
  });
});
