/**
 * Enforced 2FA in the console: the organization's switch with the count of members without a second
 * factor; a member without one sees only the set-up, sets up an authenticator app (the code computed
 * here from the key the page shows) and then gets in.
 */
import { Secret, TOTP } from 'otpauth';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, newOrganization, type Org, type Person } from '../helpers/world.js';
import { launch, logIn, open, screenshot, visit } from './browser.js';

let server: TestServer;
let browser: Browser;
let org: Org;
let member: Person;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
  org = await newOrganization(server.url, 'Acme');
  member = await addMember(org, 1);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('enforced two-factor authentication', () => {
  it('is switched on with the count of members not yet compliant, and confines them to set-up until they have a second factor', async () => {
    // The owner already has an authenticator app (set up over the API).
    const secret = (await org.owner.client.post('/api/users/@me/start_2fa_setup/')).body.secret as string;
    expect(
      (await org.owner.client.post('/api/users/@me/two_factor_validate/', { token: new TOTP({ secret: Secret.fromBase32(secret) }).generate() })).status,
    ).toBe(200);
    await org.owner.client.patch(`/api/organizations/${org.id}/`, { enforce_2fa: false });

    // The member signs in while it is off, and the owner turns it on from the console.
    const asMember = await visit(browser, server.url);
    await logIn(asMember.page, member.user.email);
    const owner = await visit(browser, server.url);
    await owner.page.goto('/signin');
    const form = owner.page.getByRole('form', { name: 'With your password' });
    await form.getByLabel('Email').fill(org.owner.user.email);
    await form.getByLabel('Password').fill('correct horse battery staple');
    await form.getByRole('button', { name: 'Log in' }).click();
    await owner.page.getByLabel('Authentication code').fill(new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + 30_000 }));
    await owner.page.getByRole('button', { name: 'Verify' }).click();
    await owner.page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    await open(owner.page, 'Organization settings');
    const section = owner.page.getByRole('region', { name: 'Two-factor authentication' });
    await section.getByText('1 member has no second factor yet.').waitFor();
    // The switch shows the server's state: it turns on once the organization says so.
    await section.getByLabel('Require two-factor authentication').click();
    await section.getByRole('status').filter({ hasText: 'Two-factor authentication is now required.' }).waitFor();
    expect(await section.getByLabel('Require two-factor authentication').isChecked()).toBe(true);
    await screenshot(owner.page, 'two-factor-enforcement');

    // The member's next page: only the set-up.
    const page = asMember.page;
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Set up two-factor authentication' }).waitFor();
    expect((await member.client.get(`/api/organizations/${org.id}/`)).body.code).toBe('two_factor_setup_required');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    const key = (await page.getByRole('form', { name: 'Confirm two-factor authentication' }).locator('code').innerText()).trim();
    await page.getByLabel('Code from the app').fill(new TOTP({ secret: Secret.fromBase32(key) }).generate());
    await page.getByRole('button', { name: 'Confirm' }).click();
    const codes = page.getByRole('region', { name: 'Backup codes' });
    await codes.getByRole('listitem').last().waitFor();
    expect(await codes.getByRole('listitem').count()).toBe(10);
    await screenshot(page, 'two-factor-required');
    await codes.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();

    await owner.page.reload();
    await owner.page.getByRole('region', { name: 'Two-factor authentication' }).getByText('Every member has a second factor.').waitFor();
    expect([...asMember.problems, ...owner.problems]).toEqual([]);
  });
});
