/**
 * The console is served by Warden itself: its page at `/` with security headers, the page for any
 * console path a browser asks for, and the API's JSON 404s untouched. Then the first run in a real
 * browser: a new instance opens on the create-owner page, the owner is created (and lands on the
 * members page without the sign-in page in between), logs out, fails and succeeds at logging in, and asks for SSO.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { launch, PHONE, screenshot, visit } from './browser.js';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer({ openSignup: false }), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('serving the console', () => {
  it('answers / and console paths with the page and its security headers, and API paths with JSON', async () => {
    const home = await fetch(`${server.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = home.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(home.headers.get('x-frame-options')).toBe('DENY');
    expect(home.headers.get('x-content-type-options')).toBe('nosniff');
    expect(home.headers.get('referrer-policy')).toBe('same-origin');
    const html = await home.text();
    // No inline script: every <script> has a src.
    expect(html.match(/<script\b[^>]*>/g)?.every((tag) => /\bsrc=/.test(tag))).toBe(true);
    const asset = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${server.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');

    const page = await fetch(`${server.url}/members/anything`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');

    for (const path of ['/api/nope/', '/login/nope/', '/complete/nope/', '/flags/nope', '/e/nope', '/assets/missing.js']) {
      const res = await fetch(`${server.url}${path}`, { headers: { accept: 'text/html' } });
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toEqual({ type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null });
    }
    // SCIM answers in its own (JSON) error shape.
    const scim = await fetch(`${server.url}/scim/v2/nope`, { headers: { accept: 'text/html' } });
    expect(scim.status).toBe(404);
    expect(scim.headers.get('content-type')).not.toMatch(/html/);
    // A console path asked for by a script (no text/html) is the API's 404, and a wrong method still a 405.
    expect((await fetch(`${server.url}/members`, { headers: { accept: 'application/json' } })).status).toBe(404);
    const wrongMethod = await fetch(`${server.url}/api/login/`, { headers: { accept: 'text/html' } });
    expect(wrongMethod.status).toBe(405);
  });
});

describe('first run and login', () => {
  it('creates the owner, logs out, shows the API’s error for a wrong password, and logs in', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await page.goto('/');
    // A new instance opens on the page that creates its owner.
    await page.getByRole('heading', { level: 1, name: 'Set up Warden' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/setup');
    await page.getByLabel('Your name').fill('Ada');
    await page.getByLabel('Email').fill('ada@acme.example');
    await page.getByLabel('Password').fill('a long password');
    await page.getByLabel('Organization name').fill('Acme');
    await screenshot(page, 'first-run');
    // From the form to the members page without showing the sign-in page on the way.
    await page.evaluate(() => {
      const w = window as unknown as { sawSignIn: boolean };
      w.sawSignIn = false;
      new MutationObserver(() => {
        if (document.body.textContent?.includes('Log in to Warden')) w.sawSignIn = true;
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    await expect(page.getByRole('combobox', { name: 'Organization' }).inputValue()).resolves.toBeTruthy();
    expect(await page.getByRole('cell', { name: 'ada@acme.example', exact: true }).count()).toBe(1);

    // The API holds the owner and the organization.
    const api = new Client(server.url);
    expect((await api.post('/api/login/', { email: 'ada@acme.example', password: 'a long password' })).status).toBe(200);
    const me = await api.get('/api/users/@me/');
    expect(me.body.organization).toMatchObject({ name: 'Acme', membership_level: 15 });
    expect(await page.evaluate(() => (window as unknown as { sawSignIn: boolean }).sawSignIn)).toBe(false);

    // A second sign-up on this instance is refused, with the API's words.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Log in to Warden' }).waitFor();
    await screenshot(page, 'login');
    await page.goto('/setup');
    await page.getByLabel('Your name').fill('Eve');
    await page.getByLabel('Email').fill('eve@acme.example');
    await page.getByLabel('Password').fill('another long password');
    await page.getByLabel('Organization name').fill('Evil');
    await page.getByRole('button', { name: 'Create owner account' }).click();
    const refusal = page.getByRole('alert');
    await refusal.waitFor();
    const signupRefusal = await api.anonymous().post('/api/signup/', { first_name: 'Eve', email: 'eve2@acme.example', password: 'another long password' });
    expect(signupRefusal.status).toBeGreaterThanOrEqual(400);
    expect(await refusal.textContent()).toContain(signupRefusal.body.detail);

    await page.goto('/signin');
    const form = page.getByRole('form', { name: 'With your password' });
    await form.getByLabel('Email').fill('ada@acme.example');
    await form.getByLabel('Password').fill('not the password');
    await form.getByRole('button', { name: 'Log in' }).click();
    await form.getByRole('alert').waitFor();
    const wrong = await api.anonymous().post('/api/login/', { email: 'ada@acme.example', password: 'not the password' });
    expect(await form.getByRole('alert').textContent()).toContain(wrong.body.detail);

    await form.getByLabel('Password').fill('a long password');
    await form.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    // Reloading a console path keeps the session and the page (the server answers it with the console).
    await page.goto('/projects');
    await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('finds no identity provider for an unconfigured domain and says so in the API’s words', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await page.goto('/signin');
    const sso = page.getByRole('form', { name: 'With single sign-on' });
    await sso.getByLabel('Work email').fill('someone@unknown.example');
    await sso.getByRole('button', { name: 'Log in with SSO' }).click();
    const alert = sso.getByRole('alert');
    await alert.waitFor();
    const saml = await new Client(server.url).get('/login/saml/?email=someone@unknown.example');
    expect(saml.status).toBe(400);
    expect(await alert.textContent()).toContain(saml.body.detail);
    expect(page.url()).toBe(`${server.url}/signin`);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('is usable at phone width, with the keyboard', async () => {
    const { page, context, problems } = await visit(browser, server.url, PHONE);
    await page.goto('/signin');
    await page.getByRole('heading', { level: 1, name: 'Log in to Warden' }).waitFor();
    // Tab order reaches the login form's fields in order, each with a visible label.
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.labels?.[0]?.textContent)).resolves.toBe('Email');
    await page.keyboard.type('ada@acme.example');
    await page.keyboard.press('Tab');
    await page.keyboard.type('a long password');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    // Nothing wider than the phone's screen but the tables' own scrolling areas.
    await page.getByRole('cell', { name: 'ada@acme.example', exact: true }).waitFor();
    await screenshot(page, 'members-phone');
    // Nothing sticks out of the screen, except inside its own horizontal scrolling area (tables, the navigation).
    const wide = await page.evaluate(() => {
      const scrolls = (e: Element | null): boolean => {
        for (let a = e?.parentElement; a; a = a.parentElement) if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return true;
        return false;
      };
      return [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !scrolls(e))
        .map((e) => `${e.tagName}.${e.className}`);
    });
    expect(wide).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});
