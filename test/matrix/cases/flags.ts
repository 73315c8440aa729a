import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { Client, type Response } from '../../helpers/client.js';
import type { Case, Req } from '../model.js';
import { sessionOf, type World } from '../world.js';
import { inP, writes } from './core.js';

const unique = () => randomBytes(4).toString('hex');
const READ = { scope: 'feature_flag', action: 'read' } as const;
const WRITE = { scope: 'feature_flag', action: 'write' } as const;

/**
 * The world's route-dependent principals ("key with only feature_flag:read", …) come from
 * `w.scopeKeys`, which test/matrix/world.ts fills for a few scopes only. Until it lists
 * `feature_flag`, this fills the gap: clients that exist at once (routePrincipals needs them before
 * any request) and send with keys made on first use. An owner's keys: O's (O2's key slots are
 * taken by world.ts and other case modules), or O2's if O has as many as a person may; both are
 * owners, so the oracle expects the same of either.
 */
class DeferredKeyClient extends Client {
  keyId = 'pending';
  private real: Promise<Client> | undefined;
  constructor(
    private readonly w: World,
    private readonly scope: string,
  ) {
    super(w.server.url);
  }

  private key(): Promise<Client> {
    this.real ??= (async () => {
      for (const owner of ['O', 'O2'] as const) {
        const res = await sessionOf(this.w, owner).post('/api/personal_api_keys/', { label: `m-${this.scope}`.slice(0, 40), scopes: [this.scope] });
        if (res.status === 201) {
          this.keyId = res.body.id;
          return new Client(this.w.server.url).withKey(res.body.value);
        }
      }
      throw new Error(`could not make a ${this.scope} key for the matrix`);
    })();
    return this.real;
  }

  override async request<T = any>(method: string, path: string, body?: unknown, options?: Parameters<Client['request']>[3]): Promise<Response<T>> {
    return (await this.key()).request<T>(method, path, body, options);
  }
}

function ensureFlagKeys(w: World): void {
  for (const action of ['read', 'write']) {
    const scope = `feature_flag:${action}`;
    if (!w.scopeKeys.has(scope)) w.scopeKeys.set(scope, new DeferredKeyClient(w, scope));
  }
}

const tokens = new WeakMap<World, Promise<string>>();
/** Project P's token (phc_…), read once through O's session. */
function tokenOfP(w: World): Promise<string> {
  let token = tokens.get(w);
  if (!token) {
    token = sessionOf(w, 'O')
      .get(`/api/projects/${w.projectP}/`)
      .then((res) => {
        expect(res.status).toBe(200);
        return res.body.api_token as string;
      });
    tokens.set(w, token);
  }
  return token;
}

/** A fresh flag in P, made by O: what write and delete cases act on. */
async function freshFlag(w: World): Promise<number> {
  const res = await sessionOf(w, 'O').post(`/api/projects/${w.projectP}/feature_flags/`, {
    key: `matrix-${unique()}`,
    filters: { groups: [{ properties: [], rollout_percentage: 50 }] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** Feature flags and flag evaluation. */
export function flagCases(w: World): Case[] {
  ensureFlagKeys(w);
  const base = '/api/projects/:project_id/feature_flags/';
  const flags = `/api/projects/${w.projectP}/feature_flags/`;
  let readTarget: Promise<number> | undefined;
  // Definitions for local evaluation: the project comes from the token, here P's.
  const definitions = (path: string): Case => ({
    route: `GET ${path}`,
    access: READ,
    who: 'project-member',
    ok: 200,
    request: async (): Promise<Req> => inP(w, { method: 'GET', path: `${path}?token=${await tokenOfP(w)}&send_cohorts` }),
  });
  // Remote evaluation: the project token alone decides, whoever else is calling.
  const remote = (route: string, path: string): Case => ({
    route,
    access: 'project-token',
    who: 'anyone',
    ok: 200,
    request: async () => ({ method: 'POST', path, body: { token: await tokenOfP(w), distinct_id: `matrix-${unique()}` } }),
  });

  return [
    { route: `GET ${base}`, access: READ, who: 'project-member', ok: 200, request: async () => inP(w, { method: 'GET', path: flags }) },
    {
      route: `POST ${base}`,
      access: WRITE,
      who: 'project-member',
      ok: 201,
      request: async () =>
        inP(w, { method: 'POST', path: flags, body: { key: `matrix-${unique()}`, filters: { groups: [{ properties: [], rollout_percentage: 10 }] } } }),
    },
    {
      route: `GET ${base}:flag_id/`,
      access: READ,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${flags}${await (readTarget ??= freshFlag(w))}/` }),
    },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: `${base}:flag_id/`,
      access: WRITE,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method, path: `${flags}${await freshFlag(w)}/`, body: { name: 'renamed by the matrix', active: false } }),
    })),
    {
      route: `DELETE ${base}:flag_id/`,
      access: WRITE,
      who: 'project-member',
      ok: 204,
      request: async () => inP(w, { method: 'DELETE', path: `${flags}${await freshFlag(w)}/` }),
    },
    definitions('/api/feature_flag/local_evaluation/'),
    definitions('/flags/definitions'),
    // posthog-js's remote config: public, by the project's token in the path.
    {
      route: 'GET /array/:token/config',
      access: 'public',
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'GET', path: `/array/${await tokenOfP(w)}/config` }),
    },
    {
      route: 'GET /array/:token/config.js',
      access: 'public',
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'GET', path: `/array/${await tokenOfP(w)}/config.js` }),
    },
    remote('POST /flags/', '/flags/?v=2'),
    remote('POST /decide/', '/decide/?v=3'),
  ];
}
