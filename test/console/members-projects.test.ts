/**
 * Organization settings, the switcher, members and projects, clicked through by an owner; and the
 * same pages as a plain member, who sees the controls they may not use disabled, with the reason.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, newOrganization, uniqueEmail, type Org, type Person } from '../helpers/world.js';
import { launch, logIn, open, saysDone, screenshot, visit } from './browser.js';

let server: TestServer;
let browser: Browser;
let org: Org;
let member: Person;
let leaver: Person;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
  org = await newOrganization(server.url, 'Acme');
  member = await addMember(org, 1);
  leaver = await addMember(org, 1);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The title (hover text) of a control: the reason it is disabled. */
const reasonOf = (locator: { getAttribute(name: string): Promise<string | null> }) => locator.getAttribute('title');

describe('members', () => {
  it('lets an owner invite with a level, change a level and remove someone', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    const invitee = uniqueEmail('invitee');
    const invite = page.getByRole('form', { name: 'Invite someone' });
    await invite.getByLabel('Email').fill(invitee);
    await invite.getByLabel('Level').selectOption({ label: 'Admin' });
    await invite.getByRole('button', { name: 'Send invite' }).click();
    await saysDone(page, `Invited ${invitee}`);
    await page.getByText(`${invitee} · Admin`).waitFor();
    const invites = await org.owner.client.get(`/api/organizations/${org.id}/invites/`);
    expect(invites.body.results.find((i: any) => i.target_email === invitee)?.level).toBe(8);

    await page.getByLabel(`Level of ${member.user.email}`).selectOption({ label: 'Admin' });
    await saysDone(page, `${member.user.email} is now Admin`);
    const members = async () => (await org.owner.client.get(`/api/organizations/${org.id}/members/`)).body.results as any[];
    expect((await members()).find((m) => m.user.uuid === member.user.uuid)?.level).toBe(8);
    await page.getByLabel(`Level of ${member.user.email}`).selectOption({ label: 'Member' });
    await saysDone(page, `${member.user.email} is now Member`);
    expect((await members()).find((m) => m.user.uuid === member.user.uuid)?.level).toBe(1);

    // The owner's own row: no level change, no leaving (the server's rules, with their words).
    expect(await reasonOf(page.getByLabel(`Level of ${org.owner.user.email}`))).toBe("You can't change your own access level.");
    expect(await reasonOf(page.getByRole('button', { name: 'Leave the organization' }))).toBe('Cannot leave the organization as its owner!');

    await page.getByRole('button', { name: `Remove ${leaver.user.email}` }).click();
    await saysDone(page, `${leaver.user.email} was removed`);
    expect((await members()).some((m) => m.user.uuid === leaver.user.uuid)).toBe(false);
    await expect(page.getByRole('cell', { name: leaver.user.email, exact: true }).count()).resolves.toBe(0);
    await screenshot(page, 'members');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a member the controls they may not use disabled, with the reason', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, member.user.email);
    const ownerLevel = page.getByLabel(`Level of ${org.owner.user.email}`);
    await ownerLevel.waitFor();
    expect(await ownerLevel.isDisabled()).toBe(true);
    expect(await reasonOf(ownerLevel)).toBe('You can only edit others if you are an admin.');
    const remove = page.getByRole('button', { name: `Remove ${org.owner.user.email}` });
    expect(await remove.getAttribute('aria-disabled')).toBe('true');
    expect(await reasonOf(remove)).toBe('You can only edit others if you are an admin.');
    // Pressing it anyway changes nothing.
    await remove.click({ force: true });
    expect((await org.owner.client.get(`/api/organizations/${org.id}/members/`)).body.results.some((m: any) => m.level === 15)).toBe(true);
    // Members may invite (members_can_invite), but never above their own level.
    const admin = page.getByRole('form', { name: 'Invite someone' }).getByRole('option', { name: 'Admin' });
    expect(await admin.isDisabled()).toBe(true);
    expect(await reasonOf(admin)).toBe('You cannot invite a user with a higher permission level than your own.');
    await screenshot(page, 'members-as-member');

    await open(page, 'Organization settings');
    expect(await page.getByLabel('Name', { exact: true }).isDisabled()).toBe(true);
    await page.getByRole('note').filter({ hasText: 'Your organization access level is insufficient.' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('projects', () => {
  it('creates a private project, adds a project member and changes their level', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    await open(page, 'Projects');
    const form = page.getByRole('form', { name: 'New project' });
    await form.getByLabel('Project name').fill('Secret');
    await form.getByLabel('Private (only admins and its members)').check();
    await form.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { level: 2, name: 'Secret' }).waitFor();
    const projects = (await org.owner.client.get(`/api/organizations/${org.id}/projects/`)).body.results as any[];
    const secret = projects.find((p) => p.name === 'Secret');
    expect(secret?.access_control).toBe(true);
    expect(page.url()).toBe(`${server.url}/projects/${secret.id}`);

    const add = page.getByRole('form', { name: 'Add a project member' });
    await add.getByLabel('Organization member').selectOption({ label: member.user.email });
    await add.getByLabel('Project level').selectOption({ label: 'Admin' });
    await add.getByRole('button', { name: 'Add to project' }).click();
    await saysDone(page, `${member.user.email} added`);
    const projectMembers = async () => (await org.owner.client.get(`/api/projects/${secret.id}/members/`)).body.results as any[];
    expect((await projectMembers()).find((m) => m.user.uuid === member.user.uuid)?.level).toBe(8);

    await page.getByLabel(`Project level of ${member.user.email}`).selectOption({ label: 'Member' });
    await saysDone(page, `${member.user.email} is now project member`);
    expect((await projectMembers()).find((m) => m.user.uuid === member.user.uuid)?.level).toBe(1);

    await page.getByLabel('Private project').uncheck();
    await saysDone(page, 'The project is now open to every member.');
    expect((await org.owner.client.get(`/api/projects/${secret.id}/`)).body.access_control).toBe(false);
    await page.getByLabel('Private project').check();
    await saysDone(page, 'The project is now private.');
    expect((await org.owner.client.get(`/api/projects/${secret.id}/`)).body.access_control).toBe(true);
    await screenshot(page, 'projects');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a member their project without the controls they may not use', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, member.user.email);
    await open(page, 'Projects');
    const create = page.getByRole('button', { name: 'Create project' });
    expect(await reasonOf(create)).toBe('You need to be an organization admin or above to create new projects.');
    await page.getByRole('link', { name: 'Secret' }).click();
    await page.getByRole('heading', { level: 2, name: 'Secret' }).waitFor();
    expect(await page.getByLabel('Private project').isDisabled()).toBe(true);
    const addButton = page.getByRole('button', { name: 'Add to project' });
    expect(await reasonOf(addButton)).toBe("You don't have sufficient permissions in the project.");
    await screenshot(page, 'projects-as-member');
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('organization settings and switcher', () => {
  it('saves settings and the key policy, creates an organization and switches between them', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    await open(page, 'Organization settings');
    await page.getByLabel('Name', { exact: true }).fill('Acme Analytics');
    await page.getByLabel('Members can invite others').check();
    await page.getByLabel("Limit the scopes members' keys may carry").check();
    await page.getByRole('group', { name: 'Presets' }).getByRole('button', { name: 'Flag service' }).click();
    await page.getByLabel('insight: read').check();
    await page.getByLabel('Maximum key lifetime (days)').fill('30');
    await page.getByLabel('Activity log retention (days)').fill('400');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await saysDone(page, 'Settings saved.');
    const saved = (await org.owner.client.get(`/api/organizations/${org.id}/`)).body;
    expect(saved).toMatchObject({
      name: 'Acme Analytics',
      members_can_invite: true,
      personal_api_keys_max_lifetime_days: 30,
      activity_log_retention_days: 400,
    });
    expect([...saved.personal_api_keys_allowed_scopes].sort()).toEqual(['feature_flag:read', 'feature_flag:write', 'insight:read']);
    const switcher = page.getByRole('combobox', { name: 'Organization' });
    await expect.poll(() => switcher.locator('option:checked').textContent()).toBe('Acme Analytics');

    // A bad value: the API's message, at its field.
    const lifetime = page.getByLabel('Maximum key lifetime (days)');
    await lifetime.fill('99999');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('.field-error').first().waitFor();
    expect(await lifetime.getAttribute('aria-invalid')).toBe('true');
    const refused = await org.owner.client.patch(`/api/organizations/${org.id}/`, { personal_api_keys_max_lifetime_days: 99999 });
    expect(await page.locator('.field-error').textContent()).toBe(refused.body.detail);
    await screenshot(page, 'organization-settings');

    const create = page.getByRole('form', { name: 'New organization' });
    await create.getByLabel('Organization name').fill('Side Project Inc');
    await create.getByRole('button', { name: 'Create organization' }).click();
    await page.getByRole('heading', { level: 2, name: 'Side Project Inc' }).waitFor();
    expect((await org.owner.client.get('/api/users/@me/')).body.organization.name).toBe('Side Project Inc');
    await switcher.selectOption({ label: 'Acme Analytics' });
    await page.getByRole('heading', { level: 2, name: 'Acme Analytics' }).waitFor();
    expect((await org.owner.client.get('/api/users/@me/')).body.organization.id).toBe(org.id);
    expect(problems).toEqual([]);
    await context.close();
  });
});
