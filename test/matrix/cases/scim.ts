import { randomBytes, randomUUID } from 'node:crypto';
import { sha256Hex } from '../../../src/domain/identity/tokens.js';
import type { Case, Req } from '../model.js';
import type { World } from '../world.js';
import { inA } from './core.js';

/** Fixtures made once per world, on first use. */
const fixtures = new WeakMap<World, Map<string, Promise<string>>>();
function once(w: World, name: string, make: () => Promise<string>): Promise<string> {
  let map = fixtures.get(w);
  if (!map) fixtures.set(w, (map = new Map()));
  let value = map.get(name);
  if (!value) map.set(name, (value = make()));
  return value;
}

/** A verified domain of A, straight into the store; with SCIM on (under a token nobody in the matrix holds) when asked. */
const domainOfA = (w: World, purpose: 'scim' | 'tokens') =>
  once(w, `domain:${purpose}`, async () => {
    const [row] = await w.server.db.query<{ id: string }>(
      `INSERT INTO organization_domains (organization_id, domain, verification_challenge, verified_at, scim_enabled, scim_token_hash)
       VALUES ($1, $2, 'matrix', now(), $3, $4) RETURNING id`,
      [
        w.orgA,
        `matrix-${purpose}-${randomBytes(4).toString('hex')}.example`,
        purpose === 'scim',
        purpose === 'scim' ? sha256Hex(`scim_${randomBytes(24).toString('hex')}`) : null,
      ],
    );
    return row!.id;
  });

/**
 * SCIM routes take only their domain's SCIM token: every matrix principal (sessions, personal API
 * keys, nobody) is refused with 401 in SCIM's error shape (the oracle in model.ts). What a token
 * holder may do is in test/api/scim-*.test.ts. Token management is for organization admins.
 */
export function scimCases(w: World): Case[] {
  const token = '/api/organizations/:organization_id/domains/:domain_id/scim/token/';
  const write = { scope: 'organization', action: 'write' } as const;
  const tokenPath = async () => `/api/organizations/${w.orgA}/domains/${await domainOfA(w, 'tokens')}/scim/token/`;
  const list: Case[] = [
    { route: `POST ${token}`, access: write, who: 'admin', ok: 201, request: async () => inA(w, { method: 'POST', path: await tokenPath() }) },
    { route: `DELETE ${token}`, access: write, who: 'admin', ok: 204, request: async () => inA(w, { method: 'DELETE', path: await tokenPath() }) },
  ];

  const scim = (method: string, url: string, body?: unknown): Case => ({
    route: `${method} /scim/v2/:domain_id/${url}`,
    access: 'scim-token',
    who: 'anyone',
    ok: method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200,
    request: async (): Promise<Req> => {
      const path = `/scim/v2/${await domainOfA(w, 'scim')}/${url.replace(/:(\w+)/g, () => randomUUID())}`;
      return body === undefined ? { method, path } : { method, path, body };
    },
  });
  const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'matrix@example.com' };
  const group = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'matrix' };
  const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: false } }] };
  list.push(
    scim('GET', 'ServiceProviderConfig'),
    scim('GET', 'ResourceTypes'),
    scim('GET', 'ResourceTypes/:doc_id'),
    scim('GET', 'Schemas'),
    scim('GET', 'Schemas/:doc_id'),
    scim('GET', 'Users'),
    scim('POST', 'Users', user),
    scim('GET', 'Users/:user_id'),
    scim('PUT', 'Users/:user_id', user),
    scim('PATCH', 'Users/:user_id', patch),
    scim('DELETE', 'Users/:user_id'),
    scim('GET', 'Groups'),
    scim('POST', 'Groups', group),
    scim('GET', 'Groups/:group_id'),
    scim('PUT', 'Groups/:group_id', group),
    scim('PATCH', 'Groups/:group_id', patch),
    scim('DELETE', 'Groups/:group_id'),
  );
  return list;
}
