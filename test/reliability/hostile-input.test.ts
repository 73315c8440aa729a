/**
 * Hostile input does not stall the server: while a request built to cost CPU is processed,
 * `/_health` keeps answering. Each case measures health latency during the attack against the
 * same server's own baseline (a ratio, with a 100 ms floor), not against a fixed wall-clock time.
 *
 * - ReDoS: a flag regex of nested `.*` and a long person property through the public /flags
 *   endpoint (a separate `warden serve` process: on a backtracking engine its event loop never
 *   comes back, and the test process must not be the one pinned).
 * - SAML XML cost: a response of tens of thousands of sibling elements, or one nested thousands
 *   deep, posted to the ACS of a configured domain (refused before any XPath or signature work).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { freshInstance, serve, type RunningServer } from '../helpers/cli.js';
import { newSigningKey, startIdp, type TestIdp } from '../helpers/saml-idp.js';
import { startServer, storeKind, type TestServer } from '../helpers/server.js';
import { acsUrl, b64, Browser, insertSamlDomain, postToAcs, spEntityId } from '../helpers/sso-setup.js';
import { newOrganization, PASSWORD, uniqueEmail } from '../helpers/world.js';

async function healthLatency(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/_health`, { signal: AbortSignal.timeout(5_000) });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return performance.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Health latencies while `attack` runs: pings one after another until the attack settles (at least
 * `minPings`). Returns the baseline median (before), the median and worst during, and the attack's result.
 */
async function underAttack<T>(url: string, attack: () => Promise<T>, minPings = 5) {
  const baseline: number[] = [];
  for (let i = 0; i < 5; i++) baseline.push(await healthLatency(url));
  let settled = false;
  const running = attack().finally(() => (settled = true));
  const during: number[] = [];
  while (!settled || during.length < minPings) during.push(await healthLatency(url));
  const result = await running;
  return { baseline: median(baseline), median: median(during), worst: Math.max(...during), result };
}

/** The bound: within 100 ms, or five times the server's own quiet latency on a slow machine. */
const bound = (baseline: number) => Math.max(100, 5 * baseline);

describe(`hostile flag regexes (${storeKind}, warden serve process)`, () => {
  let instance: Awaited<ReturnType<typeof freshInstance>> | undefined;
  let server: RunningServer | undefined;
  afterAll(async () => {
    // SIGKILL: a server whose event loop is pinned would never handle SIGTERM.
    await server?.stop('SIGKILL');
    await instance?.cleanup();
  });

  it('a nested-.* regex and a long property through /flags do not stop /_health', { timeout: 120_000 }, async () => {
    instance = await freshInstance();
    server = await serve(instance.args, { ...instance.env, WARDEN_OPEN_SIGNUP: 'true', WARDEN_RATE_LIMITS: 'false' });
    const owner = new Client(server.url);
    const signup = await owner.post('/api/signup/', { first_name: 'Rex', email: uniqueEmail('redos'), password: PASSWORD, organization_name: 'ReDoS' });
    expect(signup.status, JSON.stringify(signup.body)).toBe(201);
    const projectId = (await owner.get('/api/users/@me/')).body.team.id;
    const token = (await owner.get(`/api/projects/${projectId}/`)).body.api_token;
    const pattern = '.*.*.*.*.*.*.*.*x';
    const created = await owner.post(`/api/projects/${projectId}/feature_flags/`, {
      key: 'hostile',
      filters: { groups: [{ properties: [{ key: 'p', operator: 'regex', value: pattern }], rollout_percentage: 100 }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);

    const evaluate = (p: string) =>
      fetch(`${server!.url}/flags/?v=2`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, distinct_id: 'victim', person_properties: { p } }),
        signal: AbortSignal.timeout(30_000),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const measured = await underAttack(server.url, () =>
      Promise.all(['a'.repeat(200), 'a'.repeat(5_000), 'b'.repeat(10_000), `${'a'.repeat(199)}x`].map(evaluate)),
    );
    expect(measured.result.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(measured.result.map((r) => r.body.flags.hostile.enabled)).toEqual([false, false, false, true]);
    expect(measured.median, JSON.stringify(measured)).toBeLessThan(bound(measured.baseline));
    expect(measured.worst, JSON.stringify(measured)).toBeLessThan(2_000);
  });
});

describe(`hostile SAML XML (${storeKind})`, () => {
  let server: TestServer | undefined;
  let idp: TestIdp | undefined;
  afterAll(async () => {
    await idp?.close();
    await server?.close();
  });

  it('a response of 50,000 sibling elements or 5,000 levels is refused before any XPath, and /_health keeps answering', { timeout: 180_000 }, async () => {
    server = await startServer();
    const org = await newOrganization(server.url, 'Wide XML');
    const key = await newSigningKey();
    idp = await startIdp({ signer: key, spEntityId: spEntityId(server), acsUrl: acsUrl(server) });
    const domain = await insertSamlDomain(server, org.id, idp, [key.cert], { idpInitiated: true });
    // A genuine signed response with elements added to its signed assertion (no key needed): the
    // signature no longer verifies, but finding that out means canonicalizing all of it.
    const genuine = await idp.response({ user: { nameId: `wide@${domain.domain}`, email: `wide@${domain.domain}` } });
    const response = (inner: string) => genuine.replace(/(<saml:Assertion\b[^>]*>)/, `$1${inner}`);
    const wide = response('<a/>'.repeat(50_000));
    const deep = response(`${'<d>'.repeat(5_000)}${'</d>'.repeat(5_000)}`);
    expect(wide.length).toBeGreaterThan(genuine.length + 100_000);
    for (const [what, xml] of [
      ['wide', wide],
      ['deep', deep],
    ] as const) {
      expect(Buffer.byteLength(xml), what).toBeLessThan(256 * 1024);
      const browser = new Browser(server.url);
      const measured = await underAttack(server.url, () => postToAcs(browser, { SAMLResponse: b64(xml), RelayState: domain.id }));
      expect(measured.result.status, what).toBe(400);
      expect(String(measured.result.body), what).toContain('could not read');
      expect(measured.median, `${what}: ${JSON.stringify({ ...measured, result: undefined })}`).toBeLessThan(bound(measured.baseline));
      const [event] = await server.db.query<{ detail: any }>(
        `SELECT detail FROM activity_log WHERE scope = 'Security' AND activity = 'sso_login_failed' AND organization_id = $1 ORDER BY seq DESC LIMIT 1`,
        [org.id],
      );
      expect(JSON.stringify(event?.detail), what).toMatch(/malformed_response/);
    }
  });
});
