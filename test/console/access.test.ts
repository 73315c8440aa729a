/**
 * Roles and access: an owner creates a role, puts a member in it, sets the role's level on a
 * resource and its project access in the grid, and asks "what can this person do here, and why".
 * The answer is checked against what the API then lets that member do. A member sees it all read-only.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, newOrganization, type Org, type Person } from '../helpers/world.js';
import { launch, logIn, open, saysDone, screenshot, visit } from './browser.js';

let server: TestServer;
let browser: Browser;
let org: Org;
let analyst: Person;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
  org = await newOrganization(server.url, 'Acme');
  analyst = await addMember(org, 1);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('roles and access', () => {
  it('creates a role, fills the grid and explains a member’s effective access', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    await open(page, 'Roles & access');
    const project = org.defaultProjectId;

    await page.getByLabel('New role name').fill('Analysts');
    await page.getByRole('button', { name: 'Create role' }).click();
    await saysDone(page, 'Role Analysts created.');
    const roles = async () => (await org.owner.client.get(`/api/organizations/${org.id}/roles/`)).body.results as any[];
    const role = (await roles()).find((r) => r.name === 'Analysts');
    expect(role).toBeDefined();

    await page.getByLabel('Add a member to Analysts').selectOption({ label: analyst.user.email });
    await page.getByRole('button', { name: 'Add to role' }).click();
    await saysDone(page, 'Member added to the role.');
    expect((await roles()).find((r) => r.id === role.id).members.map((m: any) => m.user.uuid)).toEqual([analyst.user.uuid]);

    // The grid: Analysts view insights; nobody (by default) sees feature flags.
    // Resources by their names, in product areas; "Saved" shows in the cell that changed.
    const cellOf = (label: string) => page.getByRole('cell').filter({ has: page.getByLabel(label, { exact: true }) });
    await page.getByLabel('Insights for Analysts', { exact: true }).selectOption('viewer');
    await cellOf('Insights for Analysts').getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await page.getByLabel('Feature flags for Everyone (default)', { exact: true }).selectOption('none');
    await cellOf('Feature flags for Everyone (default)').getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect(await cellOf('Insights for Analysts').getByRole('status').textContent()).toBe('');
    // Areas nobody uses are folded; one opens on a click.
    const observability = page.getByRole('button', { name: /Observability/ });
    expect(await observability.getAttribute('aria-expanded')).toBe('false');
    expect(await page.getByLabel('Logs for Analysts', { exact: true }).count()).toBe(0);
    await observability.click();
    await page.getByLabel('Logs for Analysts', { exact: true }).waitFor();
    await observability.click();
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height).toBeLessThan(2600);
    await expect.poll(async () => (await org.owner.client.get(`/api/projects/${project}/resource_access_controls/`)).body.access_controls.length).toBe(2);
    const rules = (await org.owner.client.get(`/api/projects/${project}/resource_access_controls/`)).body.access_controls as any[];
    expect(rules.map((r) => [r.resource, r.role, r.access_level]).sort()).toEqual([
      ['feature_flag', null, 'none'],
      ['insight', role.id, 'viewer'],
    ]);

    await page.getByLabel('Project access for Analysts').selectOption('member');
    await saysDone(page, 'Project access saved.');
    const projectRules = (await org.owner.client.get(`/api/projects/${project}/access_controls/`)).body.access_controls as any[];
    expect(projectRules.map((r) => [r.role, r.access_level])).toEqual([[role.id, 'member']]);

    // Effective access, computed from the API's facts with the server's rules.
    await page.getByLabel('Person').selectOption({ label: analyst.user.email });
    await page.getByText(/with role Analysts/).waitFor();
    const verdict = await page.locator('.verdict').textContent();
    expect(verdict).toContain('project member');
    expect(verdict).toContain('member or role rule on the object: member');
    const table = page.getByRole('table', { name: `What ${analyst.user.email} can do in Default project` });
    const row = async (resource: string) =>
      await table
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: resource, exact: true }) })
        .locator('td')
        .allTextContents();
    // PostHog's precedence: the highest of the project-wide rules for the resource (here the role's).
    expect(await row('Insights')).toEqual(['viewer', 'yes', 'no', 'highest project-wide rule for the resource']);
    expect(await row('Feature flags')).toEqual(['none', 'no', 'no', 'highest project-wide rule for the resource']);
    expect(await row('Dashboards')).toEqual(['editor', 'yes', 'yes', 'built-in default']);
    // A viewer-capped resource: viewer reads and never writes.
    expect(await row('Activity log')).toEqual(['viewer', 'yes', 'no', 'built-in default']);
    await screenshot(page, 'roles-and-access');

    // What the console says is what the API does.
    const c = analyst.client;
    expect((await c.get(`/api/projects/${project}/insights/`)).status).toBe(200);
    expect((await c.post(`/api/projects/${project}/insights/`, { name: 'Mine' })).status).toBe(403);
    expect((await c.post(`/api/projects/${project}/feature_flags/`, { key: 'nope' })).status).toBe(403);
    expect((await c.post(`/api/projects/${project}/dashboards/`, { name: 'Board' })).status).toBe(201);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a member the roles and rules read-only, with the reasons', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, analyst.user.email);
    await open(page, 'Roles & access');
    await page.getByRole('heading', { level: 3, name: 'Analysts' }).waitFor();
    const create = page.getByRole('button', { name: 'Create role' });
    expect(await create.getAttribute('aria-disabled')).toBe('true');
    expect(await create.getAttribute('title')).toBe('You need to have admin level or higher.');
    const cell = page.getByLabel('Insights for Analysts', { exact: true });
    await expect.poll(() => cell.inputValue()).toBe('viewer');
    expect(await cell.isDisabled()).toBe(true);
    expect(await cell.getAttribute('title')).toBe('Must be an Organization admin to modify project-wide permissions.');
    const projectAccess = page.getByLabel('Project access for Analysts');
    expect(await projectAccess.isDisabled()).toBe(true);
    expect(await projectAccess.getAttribute('title')).toBe('Must be admin to modify project permissions.');
    await screenshot(page, 'roles-as-member');
    expect(problems).toEqual([]);
    await context.close();
  });
});
