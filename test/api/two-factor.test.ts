import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../src/domain/identity/sessions.js';
import { lastSeq, rowsSince } from '../helpers/activity.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, PASSWORD, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ rateLimits: true });
});
afterAll(() => server?.close());

/** Codes computed here with the same RFC 6238 library, `steps` periods from now. */
const codeAt = (secret: string, steps = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + steps * 30_000 });

async function enableTotp(person: Person): Promise<{ secret: string; backupCodes: string[] }> {
  const start = await person.client.post('/api/users/@me/start_2fa_setup/');
  expect(start.status, JSON.stringify(start.body)).toBe(200);
  const confirm = await person.client.post('/api/users/@me/two_factor_validate/', { token: codeAt(start.body.secret) });
  expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
  return { secret: start.body.secret, backupCodes: confirm.body.backup_codes };
}

async function passwordStep(email: string): Promise<Client> {
  const client = new Client(server.url);
  const res = await client.post('/api/login/', { email, password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(401);
  expect(res.body).toEqual({ type: 'authentication_error', code: '2fa_required', detail: '2FA is required.', attr: null });
  expect(client.cookie('sessionid')).toBeUndefined();
  return client;
}

const securityEvents = async (seq: number) => (await rowsSince(server.db, seq)).filter((r) => r.scope === 'Security');

describe('TOTP two-factor authentication', () => {
  it('sets up with a QR code and a confirmation code, logs in in two steps and never accepts a code twice', async () => {
    const org = await newOrganization(server.url);
    const { client, user } = org.owner;
    const elsewhere = new Client(server.url);
    expect((await elsewhere.post('/api/login/', { email: user.email, password: PASSWORD })).status).toBe(200);

    expect((await client.get('/api/users/@me/two_factor_status/')).body).toEqual({ is_enabled: false, backup_codes_remaining: 0, method: null });
    const start = await client.post('/api/users/@me/start_2fa_setup/');
    expect(start.status).toBe(200);
    expect(start.body.otpauth_uri).toMatch(new RegExp(`^otpauth://totp/Warden:.*secret=${start.body.secret}`));
    expect(start.body.qr_code).toMatch(/^data:image\/png;base64,/);
    const secret = start.body.secret as string;

    // A wrong code: PostHog's error, nothing enabled, a security event.
    let seq = await lastSeq(server.db);
    expectError(
      await client.post('/api/users/@me/two_factor_validate/', { token: '000000' === codeAt(secret) ? '111111' : '000000' }),
      400,
      'Invalid authentication code',
      'token',
    );
    expect((await client.get('/api/users/@me/two_factor_status/')).body.is_enabled).toBe(false);
    expect((await securityEvents(seq)).map((r) => [r.activity, r.detail.context.reason, r.detail.context.during])).toEqual([
      ['second_factor_failed', 'invalid', 'setup'],
    ]);

    seq = await lastSeq(server.db);
    const setupCode = codeAt(secret);
    const confirm = await client.post('/api/users/@me/two_factor_validate/', { token: setupCode });
    expect(confirm.status).toBe(200);
    expect(confirm.body.backup_codes).toHaveLength(10);
    expect((await rowsSince(server.db, seq)).map((r) => r.activity)).toContain('two_factor_enabled');
    expect((await client.get('/api/users/@me/two_factor_status/')).body).toEqual({ is_enabled: true, backup_codes_remaining: 10, method: 'TOTP' });
    // Backup codes are stored hashed, never as shown.
    const stored = await server.db.query<{ code_hash: string }>('SELECT code_hash FROM backup_codes WHERE user_id = $1', [user.id]);
    expect(stored.map((r) => r.code_hash)).not.toContain(confirm.body.backup_codes[0]);
    // Changing the second factor ended the other session, not this one.
    expect((await elsewhere.get('/api/users/@me/')).status).toBe(401);
    expect((await client.get('/api/users/@me/')).status).toBe(200);

    // Login: password, then the code. The set-up code's time step is used up.
    const pending = await passwordStep(user.email);
    expect((await pending.get('/api/users/@me/')).status).toBe(401);
    seq = await lastSeq(server.db);
    expectError(await pending.post('/api/login/token/', { token: setupCode }), 400, 'Invalid authentication code');
    expectError(await pending.post('/api/login/token/', { token: codeAt(secret, -3) }), 400, 'Invalid authentication code');
    expect((await securityEvents(seq)).map((r) => r.detail.context.reason)).toEqual(['reused', 'invalid']);
    expect(pending.cookie('sessionid')).toBeUndefined();
    const next = codeAt(secret, 1);
    expect((await pending.post('/api/login/token/', { token: next })).body).toEqual({ success: true });
    expect((await pending.get('/api/users/@me/')).body.email).toBe(user.email);
    const sessions = await server.db.query<{ second_factor: string }>(
      'SELECT second_factor FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1',
      [user.id],
    );
    expect(sessions[0]!.second_factor).toBe('totp');

    // The same code again, in a new login: refused. A backup code works once.
    const again = await passwordStep(user.email);
    expectError(await again.post('/api/login/token/', { token: next }), 400, 'Invalid authentication code');
    const backup = confirm.body.backup_codes[0] as string;
    seq = await lastSeq(server.db);
    expect((await again.post('/api/login/token/', { token: backup })).status).toBe(200);
    expect((await rowsSince(server.db, seq)).map((r) => r.activity)).toContain('backup_code_used');
    const third = await passwordStep(user.email);
    expectError(await third.post('/api/login/token/', { token: backup }), 400, 'Invalid authentication code');
    expect((await client.get('/api/users/@me/two_factor_status/')).body.backup_codes_remaining).toBe(9);
  });

  it('refuses a second step without a pending login or after it expired', async () => {
    const org = await newOrganization(server.url);
    const { secret } = await enableTotp(org.owner);
    expectError(
      await new Client(server.url).post('/api/login/token/', { token: codeAt(secret, 1) }),
      400,
      'Login attempt has expired. Re-enter username/password.',
    );
    const pending = await passwordStep(org.owner.user.email);
    await server.db.query("UPDATE pending_logins SET expires_at = now() - interval '1 second' WHERE user_id = $1", [org.owner.user.id]);
    const res = await pending.post('/api/login/token/', { token: codeAt(secret, 1) });
    expectError(res, 400, 'Login attempt has expired. Re-enter username/password.');
    expect(res.body.code).toBe('2fa_expired');
    expect(pending.cookie('sessionid')).toBeUndefined();
  });

  it('disables with a fresh code only, and throttles wrong codes like passwords', async () => {
    const org = await newOrganization(server.url);
    const { client, user } = org.owner;
    const { secret, backupCodes } = await enableTotp(org.owner);
    expectError(await client.post('/api/users/@me/two_factor_disable/', { token: codeAt(secret) }), 400, 'Invalid authentication code');
    expect((await client.get('/api/users/@me/two_factor_status/')).body.is_enabled).toBe(true);
    const seq = await lastSeq(server.db);
    expect((await client.post('/api/users/@me/two_factor_disable/', { token: backupCodes[1] })).status).toBe(200);
    expect((await rowsSince(server.db, seq)).map((r) => r.activity)).toContain('two_factor_disabled');
    expect((await new Client(server.url).post('/api/login/', { email: user.email, password: PASSWORD })).status).toBe(200);
    expectError(await client.post('/api/users/@me/two_factor_disable/', { token: '123456' }), 400, 'Two-factor authentication is not enabled.');

    // Five wrong codes for one account from one address, then 429 even for the right one.
    const other = await newOrganization(server.url);
    const second = await enableTotp(other.owner);
    const pending = await passwordStep(other.owner.user.email);
    const wrong = codeAt(second.secret, 1) === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) expect((await pending.post('/api/login/token/', { token: wrong })).status).toBe(400);
    const throttled = await pending.post('/api/login/token/', { token: codeAt(second.secret, 1) });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(pending.cookie('sessionid')).toBeUndefined();
  });
});

describe('enforced 2FA', () => {
  it('confines a member without a second factor to the set-up routes until they have one; keys and SSO sessions are not confined', async () => {
    const org = await newOrganization(server.url);
    await enableTotp(org.owner);
    const member = await addMember(org, 1);
    const key = await keyClient(member, ['organization:read']);
    expect((await org.owner.client.patch(`/api/organizations/${org.id}/`, { enforce_2fa: true })).status).toBe(200);

    const seq = await lastSeq(server.db);
    const refused = await member.client.get(`/api/organizations/${org.id}/`);
    expectError(refused, 403, /requires two-factor authentication/);
    expect(refused.body.code).toBe('two_factor_setup_required');
    expect((await securityEvents(seq)).map((r) => [r.activity, r.organization_id])).toEqual([['access_denied', org.id]]);
    expect((await member.client.get('/api/users/@me/')).status).toBe(200);
    expect((await key.get(`/api/organizations/${org.id}/`)).status).toBe(200);

    // An SSO session (the IdP did the authentication) is exempt.
    const sso = await server.db.transaction((tx) => createSession(tx, member.user.id, 'saml'));
    const ssoClient = new Client(server.url);
    const viaSso = await ssoClient.request('GET', `/api/organizations/${org.id}/`, undefined, { headers: { cookie: `sessionid=${sso.token}` } });
    expect(viaSso.status).toBe(200);

    const members = await org.owner.client.get(`/api/organizations/${org.id}/members/`);
    const flag = (uuid: string) => members.body.results.find((m: any) => m.user.uuid === uuid).is_2fa_enabled;
    expect([flag(org.owner.user.uuid), flag(member.user.uuid)]).toEqual([true, false]);

    await enableTotp(member);
    expect((await member.client.get(`/api/organizations/${org.id}/`)).status).toBe(200);
    const after = await org.owner.client.get(`/api/organizations/${org.id}/members/`);
    expect(after.body.results.every((m: any) => m.is_2fa_enabled)).toBe(true);
  });
});
