import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Case, Req } from '../model.js';
import { sessionOf, type World } from '../world.js';
import { inA, writes } from './core.js';

const unique = () => randomBytes(4).toString('hex');

async function newDomain(w: World): Promise<string> {
  const res = await sessionOf(w, 'O').post(`/api/organizations/${w.orgA}/domains/`, { domain: `matrix-${unique()}.test` });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** One verified domain of A for the read, update and verify cases (marked verified in the store: no DNS here). */
const shared = new WeakMap<World, Promise<string>>();
function sharedDomain(w: World): Promise<string> {
  let id = shared.get(w);
  if (!id) {
    id = newDomain(w).then(async (domainId) => {
      await w.server.db.query('UPDATE organization_domains SET verified_at = now() WHERE id = $1', [domainId]);
      return domainId;
    });
    shared.set(w, id);
  }
  return id;
}

async function newMapping(w: World, domainId: string): Promise<string> {
  const res = await sessionOf(w, 'O').post(`/api/organizations/${w.orgA}/domains/${domainId}/group_mappings/`, { group_name: `g-${unique()}`, level: 1 });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** Organization domains and their group mappings: members read, admins write (scope organization). */
export function ssoCases(w: World): Case[] {
  const domains = '/api/organizations/:organization_id/domains/';
  const orgDomains = `/api/organizations/${w.orgA}/domains/`;
  const read = { scope: 'organization', action: 'read' } as const;
  const write = { scope: 'organization', action: 'write' } as const;
  const at = async (suffix = '') => `${orgDomains}${await sharedDomain(w)}/${suffix}`;
  const req = (r: Req) => inA(w, r);
  return [
    { route: `GET ${domains}`, access: read, who: 'member', ok: 200, request: async () => req({ method: 'GET', path: orgDomains }) },
    {
      route: `POST ${domains}`,
      access: write,
      who: 'admin',
      ok: 201,
      request: async () => req({ method: 'POST', path: orgDomains, body: { domain: `matrix-${unique()}.test` } }),
    },
    { route: `GET ${domains}:domain_id/`, access: read, who: 'member', ok: 200, request: async () => req({ method: 'GET', path: await at() }) },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: `${domains}:domain_id/`,
      access: write,
      who: 'admin',
      ok: 200,
      request: async () => req({ method, path: await at(), body: { group_attribute: `groups-${unique()}` } }),
    })),
    {
      route: `DELETE ${domains}:domain_id/`,
      access: write,
      who: 'admin',
      ok: 204,
      request: async () => req({ method: 'DELETE', path: `${orgDomains}${await newDomain(w)}/` }),
    },
    {
      route: `POST ${domains}:domain_id/verify/`,
      access: write,
      who: 'admin',
      ok: 200,
      request: async () => req({ method: 'POST', path: await at('verify/') }),
    },
    {
      route: `GET ${domains}:domain_id/group_mappings/`,
      access: read,
      who: 'member',
      ok: 200,
      request: async () => req({ method: 'GET', path: await at('group_mappings/') }),
    },
    {
      route: `POST ${domains}:domain_id/group_mappings/`,
      access: write,
      who: 'admin',
      ok: 201,
      request: async () => req({ method: 'POST', path: await at('group_mappings/'), body: { group_name: `g-${unique()}`, level: 8 } }),
    },
    {
      route: `DELETE ${domains}:domain_id/group_mappings/:mapping_id/`,
      access: write,
      who: 'admin',
      ok: 204,
      request: async () => {
        const domainId = await sharedDomain(w);
        return req({ method: 'DELETE', path: `${orgDomains}${domainId}/group_mappings/${await newMapping(w, domainId)}/` });
      },
    },
  ];
}
