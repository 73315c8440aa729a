/**
 * The authorization matrix: every registered route x every kind of principal -> the expected
 * status, over real HTTP. The expectations come from the rules written out in test/matrix/model.ts
 * (an oracle independent of src/access/decide.ts); the cases live in test/matrix/cases/, one module
 * per area. The test fails if a route exists that no case covers, or a case names a route that
 * does not exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteAccess } from '../../src/access/route-access.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { allCases } from '../matrix/cases/index.js';
import { expected, type Access } from '../matrix/model.js';
import { buildWorld, routePrincipals, type World } from '../matrix/world.js';
import { beforeRules, configurations, type Asker } from '../matrix/access-model.js';
import { applyConfig, ASKER_SLOTS, buildAccessWorld } from '../matrix/access-world.js';
import { mismatch, objectAccessCases } from '../matrix/cases/object-access.js';
import type { Client } from '../helpers/client.js';

let server: TestServer;
let w: World;

beforeAll(async () => {
  // Trusting the proxy lets the matrix's clients speak from other addresses (X-Forwarded-For): keys bound to networks.
  server = await startServer({ trustProxy: true });
  w = await buildWorld(server);
});

afterAll(() => server?.close());

function declared(access: RouteAccess): Access {
  switch (access.kind) {
    case 'public':
      return 'public';
    case 'project_token':
      return 'project-token';
    case 'scim_token':
      return 'scim-token';
    case 'key_management':
      return access.keys === 'self' ? 'key-self' : 'key-management';
    case 'scoped':
      return access.alsoAccepts
        ? { scope: access.scope, action: access.action, alsoAccepts: access.alsoAccepts }
        : { scope: access.scope, action: access.action };
  }
}

// The matrix walks every route as every principal: its budget grows with the route table.
describe('authorization matrix', { timeout: 480_000 }, () => {
  it('covers exactly the registered routes, with the access each declares', () => {
    const registered = server.routes.map((r) => `${r.method} ${r.url}`).sort();
    // A route may have more than one case (the grant ceiling adds some): each route at least once.
    const covered = [...new Set(allCases(w).map((c) => c.route))].sort();
    expect(covered).toEqual(registered);
    for (const c of allCases(w)) {
      const route = server.routes.find((r) => `${r.method} ${r.url}` === c.route)!;
      expect(declared(route.access), c.route).toEqual(c.access);
    }
  });

  it('gives every principal the expected status on every route', async () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const c of allCases(w)) {
      for (const p of [...w.principals, ...routePrincipals(w, c)]) {
        const req = await c.request(p);
        // The principal stays who it is: cookies a response sets (sign-up) are not kept.
        const res = await p.client.request(req.method, req.path, req.body, { storeCookies: false, ...(req.headers ? { headers: req.headers } : {}) });
        const want = expected(c, p, req);
        checked++;
        if (res.status !== want) mismatches.push(`${c.route} as ${p.name}: got ${res.status}, expected ${want} ${JSON.stringify(res.body)}`);
        if (c.access === 'scim-token') {
          // SCIM answers in RFC 7644's error shape.
          if (res.status >= 400 && (res.body?.schemas?.[0] !== 'urn:ietf:params:scim:api:messages:2.0:Error' || res.body?.status !== String(res.status))) {
            mismatches.push(`${c.route} as ${p.name}: error without SCIM's shape: ${JSON.stringify(res.body)}`);
          }
        } else if (res.status >= 400 && (res.body === null || typeof res.body !== 'object' || !('detail' in res.body) || !('type' in res.body))) {
          mismatches.push(`${c.route} as ${p.name}: error without PostHog's shape: ${JSON.stringify(res.body)}`);
        }
        await req.cleanup?.();
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(allCases(w).length * w.principals.length);
  });

  // The access-control dimension (test/matrix/access-model.ts): configurations of project, project-wide
  // and object rows (default, role, member; none…manager) in an open project, against every route
  // that declares the resource it serves, the project's update and the activity-log reads.
  it('answers every resource route as the access-control rows say', async () => {
    const aw = await buildAccessWorld(w);
    const cases = objectAccessCases();
    const serving = server.routes.filter((r) => r.access.kind === 'scoped' && r.access.serves).map((r) => `${r.method} ${r.url}`);
    expect(serving.filter((route) => !cases.some((c) => c.route === route))).toEqual([]);
    const mismatches: string[] = [];
    let checked = 0;
    for (const [i, config] of configurations().entries()) {
      const t = await applyConfig(w, aw, config);
      type AskerRow = readonly [Asker, string, Client, 'session' | 'key'];
      const askers: AskerRow[] = [
        ['subject', 'subject', aw.subject.client, 'session'],
        // The subject's key on every third configuration (a key never exceeds its user), everyone else
        // on every fourth: the rows name the subject, the defaults everyone.
        ...(i % 3 === 0 || config.forbidMemberKeys ? ([['subject', "subject's `*` key", aw.subjectKey, 'key']] as AskerRow[]) : []),
        ...(i % 4 === 0 || config.forbidMemberKeys
          ? ([
              ['other-member', 'another member', aw.other.client, 'session'],
              ['admin', 'admin', aw.admin, 'session'],
              ['outsider', "another organization's owner's `*` key", aw.outsiderKey, 'key'],
            ] as AskerRow[])
          : []),
      ];
      expect(askers.length).toBeLessThanOrEqual(ASKER_SLOTS);
      for (const c of cases) {
        for (const [slot, [asker, name, client, via]] of askers.entries()) {
          const req = c.request(aw, t, slot);
          const res = await client.request(req.method, req.path, req.body, { storeCookies: false });
          checked++;
          const bad = mismatch(c, t, beforeRules(config, asker, via) ?? c.expect(config, asker), res);
          if (bad) mismatches.push(`[${config.name}] ${c.route} as ${name}: ${bad}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(configurations().length * cases.length);
  });
});
