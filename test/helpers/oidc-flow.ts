/** Driving an OIDC login through a Browser: Warden's start route, the provider, Warden's callback. */
import { expect } from 'vitest';
import type { Browser, Page } from './browser.js';
import type { IdpAccount, OidcWorld } from './oidc-provider.js';

export const isCallback = (url: URL) => url.pathname === '/complete/oidc/';

export function account(world: OidcWorld, sub: string, extra: Partial<IdpAccount> = {}): IdpAccount {
  const a: IdpAccount = { sub, email: `${sub}@${world.domain.name}`, email_verified: true, given_name: 'Ida', family_name: 'Pe', ...extra };
  world.idp.accounts.set(sub, a);
  return a;
}

/** GET /login/oidc/ then the provider, up to (not including) Warden's callback: its URL, with code and state. */
export async function toCallback(world: OidcWorld, browser: Browser, start: string, sub: string): Promise<URL> {
  world.idp.plan = { login: sub };
  const first = await browser.get(new URL(start, world.server.url));
  expect(first.status, first.body).toBe(302);
  expect(first.location!.origin).toBe(world.idp.issuer);
  const { next, page } = await browser.follow(first.location!, isCallback);
  expect(next, page ? `${page.status} ${page.url} ${page.body.slice(0, 300)}` : '').not.toBeNull();
  expect(next!.origin).toBe(world.server.url);
  return next!;
}

/** A whole login as `sub` (starting with ?email=<their email>): the callback's answer. */
export async function signIn(world: OidcWorld, browser: Browser, sub: string, start?: string): Promise<Page> {
  const email = world.idp.accounts.get(sub)?.email ?? `${sub}@${world.domain.name}`;
  const callback = await toCallback(world, browser, start ?? `/login/oidc/?email=${encodeURIComponent(email)}`, sub);
  return browser.get(callback);
}

export const me = async (world: OidcWorld, browser: Browser) => browser.get(new URL('/api/users/@me/', world.server.url), 'application/json');

/** The sso_login_failed events, newest first. */
export async function failures(world: OidcWorld): Promise<Array<{ organization_id: string | null; context: Record<string, unknown> }>> {
  const rows = await world.server.db.query<{ organization_id: string | null; detail: { context: Record<string, unknown> } }>(
    "SELECT organization_id, detail FROM activity_log WHERE activity = 'sso_login_failed' ORDER BY seq DESC",
  );
  return rows.map((r) => ({ organization_id: r.organization_id, context: r.detail.context }));
}
