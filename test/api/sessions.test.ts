import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastSeq, rowsSince } from '../helpers/activity.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, PASSWORD } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

async function logIn(email: string, userAgent: string): Promise<Client> {
  const client = new Client(server.url);
  const res = await client.request('POST', '/api/login/', { email, password: PASSWORD }, { headers: { 'user-agent': userAgent } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return client;
}

const activities = async (seq: number) => (await rowsSince(server.db, seq)).map((r) => `${r.scope}/${r.activity}`);

describe('sessions', () => {
  it('lists your own sessions and ends one or all others, never someone else’s', async () => {
    const org = await newOrganization(server.url);
    const email = org.owner.user.email;
    const laptop = await logIn(email, 'Laptop/1.0');
    const phone = await logIn(email, 'Phone/2.0');

    const list = await laptop.get('/api/users/@me/sessions/');
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(3);
    const mine = list.body.results.find((s: any) => s.is_current);
    expect(mine).toMatchObject({ user_agent: 'Laptop/1.0', ip_address: '127.0.0.1', auth_method: 'password', second_factor: null });
    expect(list.body.results.filter((s: any) => s.is_current)).toHaveLength(1);
    const phoneSession = list.body.results.find((s: any) => s.user_agent === 'Phone/2.0');
    expect(Object.keys(phoneSession).sort()).toEqual([
      'auth_method',
      'created_at',
      'expires_at',
      'id',
      'ip_address',
      'is_current',
      'last_seen_at',
      'second_factor',
      'user_agent',
    ]);

    // Someone else cannot end it: not found for them, recorded, and the session lives on.
    const stranger = await newOrganization(server.url);
    let seq = await lastSeq(server.db);
    expectError(await stranger.owner.client.delete(`/api/users/@me/sessions/${phoneSession.id}/`), 404);
    expect(await activities(seq)).toEqual(['Security/session_end_denied']);
    expect((await phone.get('/api/users/@me/')).status).toBe(200);

    seq = await lastSeq(server.db);
    expect((await laptop.delete(`/api/users/@me/sessions/${phoneSession.id}/`)).status).toBe(204);
    expect(await activities(seq)).toEqual(['User/session_ended']);
    expect((await phone.get('/api/users/@me/')).status).toBe(401);
    expectError(await laptop.delete(`/api/users/@me/sessions/${phoneSession.id}/`), 404);
    expectError(await laptop.delete('/api/users/@me/sessions/not-a-uuid/'), 404);

    seq = await lastSeq(server.db);
    expect((await laptop.post('/api/users/@me/sessions/end_others/')).body).toEqual({ sessions_ended: 1 });
    expect(await activities(seq)).toEqual(['User/other_sessions_ended']);
    expect((await org.owner.client.get('/api/users/@me/')).status).toBe(401);
    expect((await laptop.get('/api/users/@me/sessions/')).body.count).toBe(1);
  });

  it('lets an admin end a member’s sessions, but not an owner’s, and not a member an admin’s', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const member = await addMember(org, 1);
    const path = (uuid: string) => `/api/organizations/${org.id}/members/${uuid}/end_sessions/`;

    let seq = await lastSeq(server.db);
    const refused = await admin.client.post(path(org.owner.user.uuid));
    expectError(refused, 403, 'You can only edit others with level lower or equal to you.');
    expect(await activities(seq)).toEqual(['Security/access_denied']);
    expect((await org.owner.client.get('/api/users/@me/')).status).toBe(200);
    expectError(await member.client.post(path(admin.user.uuid)), 403, 'You can only edit others if you are an admin.');
    expect((await admin.client.get('/api/users/@me/')).status).toBe(200);

    seq = await lastSeq(server.db);
    expect((await admin.client.post(path(member.user.uuid))).body).toEqual({ sessions_ended: 1 });
    expect(await activities(seq)).toEqual(['Organization/member_sessions_ended']);
    expect((await member.client.get('/api/users/@me/')).status).toBe(401);
  });

  it('ends sessions after the organization’s lifetime and idle timeout', async () => {
    const org = await newOrganization(server.url);
    const owner = org.owner.client;
    const bad = await owner.patch(`/api/organizations/${org.id}/`, { session_idle_timeout: 10 });
    expectError(bad, 400, 'Ensure this value is a whole number of seconds from 300 to 1209600.', 'session_idle_timeout');
    const seq = await lastSeq(server.db);
    const ok = await owner.patch(`/api/organizations/${org.id}/`, { session_cookie_age: 3600, session_idle_timeout: 600 });
    expect(ok.body).toMatchObject({ session_cookie_age: 3600, session_idle_timeout: 600 });
    expect(await activities(seq)).toEqual(['Organization/updated']);

    const fresh = new Client(server.url);
    const login = await fresh.post('/api/login/', { email: org.owner.user.email, password: PASSWORD });
    expect(login.headers.getSetCookie().find((c) => c.startsWith('sessionid='))).toMatch(/Max-Age=3600/);
    expect((await fresh.get('/api/users/@me/')).status).toBe(200);

    // Idle past the timeout: gone. A session older than the lifetime (set before it was shortened): gone.
    await server.db.query("UPDATE sessions SET last_seen_at = now() - interval '601 seconds' WHERE user_id = $1", [org.owner.user.id]);
    expect((await fresh.get('/api/users/@me/')).status).toBe(401);
    const again = await logIn(org.owner.user.email, 'x');
    expect((await again.get('/api/users/@me/')).status).toBe(200);
    await server.db.query("UPDATE sessions SET created_at = now() - interval '3601 seconds' WHERE user_id = $1", [org.owner.user.id]);
    expect((await again.get('/api/users/@me/')).status).toBe(401);
  });
});
