/**
 * The real client: posthog-node evaluating Warden's flags locally (definitions fetched with a
 * personal API key) and remotely (/flags with the project token), and agreeing with itself.
 */
import { PostHog } from 'posthog-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { newOrganization, type Org } from '../helpers/world.js';

let server: TestServer;
let org: Org;
let projectToken: string;

beforeAll(async () => {
  server = await startServer();
  org = await newOrganization(server.url);
  projectToken = (await org.owner.client.get(`/api/projects/${org.defaultProjectId}/`)).body.api_token;
  const flags = `/api/projects/${org.defaultProjectId}/feature_flags/`;
  const create = async (body: Record<string, unknown>) => {
    const res = await org.owner.client.post(flags, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  await create({ key: 'flag-100', filters: { groups: [{ properties: [], rollout_percentage: 100 }] } });
  await create({ key: 'flag-0', filters: { groups: [{ properties: [], rollout_percentage: 0 }] } });
  await create({ key: 'flag-half', filters: { groups: [{ properties: [], rollout_percentage: 50 }] } });
  await create({
    key: 'flag-plan',
    filters: {
      groups: [
        { properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['enterprise', 'team'] }], rollout_percentage: 100 },
        { properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@acme.com' }], rollout_percentage: 30 },
      ],
    },
  });
  await create({
    key: 'flag-variants',
    filters: {
      groups: [{ properties: [], rollout_percentage: 80 }],
      multivariate: {
        variants: [
          { key: 'control', rollout_percentage: 34 },
          { key: 'red', rollout_percentage: 33 },
          { key: 'blue', rollout_percentage: 33 },
        ],
      },
      payloads: { red: '{"hex": "#f00"}' },
    },
  });
});

afterAll(() => server?.close());

/** A client whose every request is recorded, so a test can tell local evaluation from remote. */
function client(personalApiKey?: string) {
  const calls: Array<{ url: string; status: number }> = [];
  const errors: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    calls.push({ url: String(input), status: res.status });
    return res;
  };
  const posthog = new PostHog(projectToken, {
    host: server.url,
    ...(personalApiKey ? { personalApiKey } : {}),
    featureFlagsPollingInterval: 600_000,
    fetch: recording as never,
    flushAt: 1000,
    flushInterval: 0,
    sendFeatureFlagEvent: false,
    disableGeoip: true,
  });
  posthog.on('error', (e: unknown) => errors.push(String(e)));
  return { posthog, calls, errors, remoteCalls: () => calls.filter((c) => new URL(c.url).pathname.startsWith('/flags/') && !c.url.includes('/definitions')) };
}

const local = { onlyEvaluateLocally: true, sendFeatureFlagEvents: false } as const;

describe('posthog-node against Warden', () => {
  it('evaluates flags locally with a key holding feature_flag:read', async () => {
    const { posthog, calls, errors, remoteCalls } = client(await personalKey(['feature_flag:read']));
    try {
      expect(await posthog.waitForLocalEvaluationReady(10_000)).toBe(true);
      expect(await posthog.isFeatureEnabled('flag-100', 'user-1', local)).toBe(true);
      expect(await posthog.isFeatureEnabled('flag-0', 'user-1', local)).toBe(false);
      expect(await posthog.getFeatureFlag('flag-plan', 'user-1', { ...local, personProperties: { plan: 'Team' } })).toBe(true);
      expect(await posthog.getFeatureFlag('flag-plan', 'user-1', { ...local, personProperties: { plan: 'free', email: 'x@y.org' } })).toBe(false);
      // Local evaluation happened: the definitions were fetched (from the path posthog-node 5.x polls), /flags never called.
      expect(calls.some((c) => new URL(c.url).pathname === '/flags/definitions' && c.status === 200)).toBe(true);
      expect(remoteCalls()).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await posthog.shutdown();
    }
  });

  it('gets the 403 with a key lacking feature_flag:read and then evaluates nothing locally', async () => {
    const { posthog, calls, errors, remoteCalls } = client(await personalKey(['insight:read']));
    try {
      expect(await posthog.waitForLocalEvaluationReady(1000)).toBe(false);
      expect(calls.some((c) => new URL(c.url).pathname === '/flags/definitions' && c.status === 403)).toBe(true);
      expect(errors.join('\n')).toMatch(/does not have permission to fetch feature flag definitions/);
      expect(posthog.isLocalEvaluationReady()).toBe(false);
      // Locally there is nothing to evaluate with: the SDK answers undefined, and asks no server.
      expect(await posthog.isFeatureEnabled('flag-100', 'user-1', local)).toBeUndefined();
      expect(await posthog.getFeatureFlag('flag-0', 'user-1', local)).toBeUndefined();
      expect(remoteCalls()).toEqual([]);
      // Allowed to, it falls back to /flags, which answers with the project token alone.
      expect(await posthog.isFeatureEnabled('flag-100', 'user-1', { sendFeatureFlagEvents: false })).toBe(true);
      expect(remoteCalls().length).toBeGreaterThan(0);
      expect(remoteCalls().every((c) => c.status === 200 && c.url.includes('v=2'))).toBe(true);
    } finally {
      await posthog.shutdown();
    }
  });

  it('gives every user the same answer locally as Warden gives remotely', async () => {
    const localClient = client(await personalKey(['feature_flag:read']));
    const remoteClient = client();
    try {
      expect(await localClient.posthog.waitForLocalEvaluationReady(10_000)).toBe(true);
      let enabledHalf = 0;
      const variants = new Set<unknown>();
      for (let i = 0; i < 40; i++) {
        const distinctId = `user-${i}`;
        const personProperties = { email: i % 2 === 0 ? `u${i}@acme.com` : `u${i}@else.org`, plan: i % 7 === 0 ? 'enterprise' : 'free' };
        for (const flag of ['flag-half', 'flag-plan', 'flag-variants']) {
          const here = await localClient.posthog.getFeatureFlag(flag, distinctId, { ...local, personProperties });
          const there = await remoteClient.posthog.getFeatureFlag(flag, distinctId, { personProperties, sendFeatureFlagEvents: false });
          expect(here, `${flag} for ${distinctId}`).toBe(there);
          if (flag === 'flag-half' && here === true) enabledHalf++;
          if (flag === 'flag-variants') variants.add(here);
        }
      }
      expect(enabledHalf).toBeGreaterThan(5);
      expect(enabledHalf).toBeLessThan(35);
      expect(variants).toEqual(new Set(['control', 'red', 'blue', false]));
      expect(await remoteClient.posthog.getFeatureFlagPayload('flag-variants', 'user-1', 'red')).toEqual({ hex: '#f00' });
      expect(localClient.remoteCalls()).toEqual([]);
      expect(remoteClient.remoteCalls().length).toBeGreaterThan(0);
    } finally {
      await localClient.posthog.shutdown();
      await remoteClient.posthog.shutdown();
    }
  });
});

/** A personal API key of the owner (its secret, as an SDK is configured with it). */
async function personalKey(scopes: string[]): Promise<string> {
  const res = await org.owner.client.post('/api/personal_api_keys/', { label: `sdk-${scopes.join(',')}`.slice(0, 40), scopes });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.value;
}
