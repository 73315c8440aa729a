/**
 * The console's browser tests drive Debian's chromium (/usr/bin/chromium, installed by .ci/run)
 * through playwright-core: one browser per test file, a fresh context (its own cookies) per person.
 * Playwright gives every launch a fresh temporary profile (--user-data-dir). Waits are bounded.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO } from '../helpers/cli.js';
import { PASSWORD } from '../helpers/world.js';

export const CHROMIUM = process.env.WARDEN_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = join(REPO, 'test-results/console');

/** Without the background-networking flags chromium stalls on a closed network. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
}

export interface Visit {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and failed console messages other than the expected 401 of a signed-out start. */
  problems: string[];
}

/** A fresh context (no cookies) on the console, bounded waits, page errors collected. */
export async function visit(browser: Browser, baseUrl: string, viewport = LAPTOP, permissions: string[] = []): Promise<Visit> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport, permissions });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|403|400|404)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { context, page, problems };
}

/** Signs in through the console's login form, as a person would. */
export async function logIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/signin');
  const form = page.getByRole('form', { name: 'With your password' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
}

/** Goes to a console page through its navigation link and waits for its heading. */
export async function open(page: Page, link: string, heading = link): Promise<void> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** Waits for a status message (role=status) with this text. */
export async function saysDone(page: Page, text: string | RegExp): Promise<void> {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
