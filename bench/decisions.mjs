// decide() in process: decisions per second for the hot path's shapes, and how a denial compares
// with a grant (both must stay cheap: the guard pays one per request).
//
// Then Warden against node-casbin (issue 9, benchmark 2; target: Warden at least 10x casbin): one
// generated policy, decided by both engines in this process over the same fixed list of requests,
// measured in alternating rounds. Both first have to agree on every request.
import { createRequire } from 'node:module';
import { requiredLevel, resolveAccess, satisfies } from '../dist/access/access-control.js';
import { decide } from '../dist/access/decide.js';
import { resolveProjectLevel } from '../dist/access/project-access.js';
import { compare } from './timing.mjs';

// casbin's CommonJS build: its ES module build (5.51) copies each policy line's matcher context
// through a transpiled spread helper and decides about half as fast; casbin gets its faster build.
const require = createRequire(import.meta.url);
const { newEnforcer, newModelFromString } = require('casbin');
const CASBIN_VERSION = require('casbin/package.json').version;

const organization = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'Acme',
  level: 1,
  membersCanUsePersonalApiKeys: true,
  keyPolicy: { organizationName: 'Acme', allowedScopes: null, maxLifetimeDays: null },
};
const project = { id: 42, organizationId: organization.id, effectiveLevel: 1 };
const key = {
  kind: 'personal_api_key',
  userId: 7,
  keyId: 'k1',
  scopes: ['insight:read', 'dashboard:read', 'query:read', 'feature_flag:read', 'feature_flag:write'],
  scopedTeams: [41, 42],
  scopedOrganizations: null,
  createdAt: new Date(),
  isServiceAccount: false,
};
const now = new Date();
const grant = () => decide({ principal: key, access: { kind: 'scoped', scope: 'feature_flag', action: 'read' }, organization, project, now });
const denial = () => decide({ principal: key, access: { kind: 'scoped', scope: 'project', action: 'write' }, organization, project, now });

export async function benchDecisions() {
  if (!grant().allow || denial().allow) throw new Error('benchmark inputs no longer decide as expected');
  const { a, b } = await compare(grant, denial, { iterations: 200_000 });
  console.log('decide() in process');
  console.log(`  grant : ${(1e9 / a).toFixed(0).padStart(10)} decisions/s`);
  console.log(`  denial: ${(1e9 / b).toFixed(0).padStart(10)} decisions/s`);
  console.log(`  ratio denial/grant cost: ${(b / a).toFixed(2)}`);
  await benchWardenVsCasbin();
}

// ---------------------------------------------------------------------------------------------
// Warden vs casbin. The policy: 1,000 users, 100 projects spread over 10 organizations, 10 roles
// in each organization. Each membership has an organization level (member 1, admin 8, owner 15)
// and holds 0-2 of its organization's roles; some projects are private (access_control) with
// explicit members, some carry access-control rows on the project itself; every project has
// access-control rows on feature_flag, insight and dashboard (a default row for half of them,
// role rows, member rows).
// A request is (user, project, resource, read|write) as a signed-in user.

const SIZE = { users: 1_000, organizations: 10, projects: 100, rolesPerOrganization: 10, requests: 10_000 };
const RESOURCES = ['feature_flag', 'insight', 'dashboard'];
const ACTIONS = ['read', 'write'];
const SEED = 9;

/** mulberry32: a small seeded PRNG, so every run builds the same policy and requests. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (random, list) => list[Math.floor(random() * list.length)];
const chance = (random, p) => random() < p;
/** n distinct elements of list. */
function sample(random, list, n) {
  const copy = [...list];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
}

function organizationLevel(random) {
  const r = random();
  return r < 0.75 ? 1 : r < 0.92 ? 8 : 15;
}

const row = (accessLevel, resourceId, { memberId = null, roleId = null } = {}) => ({
  accessLevel,
  resourceId,
  organizationMemberId: memberId,
  roleId,
});

/** The facts both engines are built from (what Warden's tables would hold). */
function generateWorld(random) {
  const organizations = Array.from({ length: SIZE.organizations }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
    name: `Organization ${i + 1}`,
    roleIds: Array.from({ length: SIZE.rolesPerOrganization }, (_, k) => `role-${i + 1}-${k + 1}`),
    members: [],
    projects: [],
  }));
  const projects = Array.from({ length: SIZE.projects }, (_, i) => {
    const project = { id: i + 1, organization: organizations[i % SIZE.organizations], accessControl: chance(random, 0.3) };
    project.organization.projects.push(project);
    return project;
  });

  // Every user is in one organization; one in five also in a second one.
  const memberships = [];
  for (let userId = 1; userId <= SIZE.users; userId++) {
    const first = pick(random, organizations);
    const theirs = chance(random, 0.2)
      ? [
          first,
          pick(
            random,
            organizations.filter((o) => o !== first),
          ),
        ]
      : [first];
    for (const org of theirs) {
      const membership = {
        userId,
        organization: org,
        level: organizationLevel(random),
        memberId: `member-${org.id.slice(-2)}-${userId}`,
        roleIds: sample(random, org.roleIds, Math.floor(random() * 3)),
      };
      memberships.push(membership);
      org.members.push(membership);
    }
  }

  // Private projects: a quarter of the organization's members are explicit members (level 1 or 8).
  const explicit = new Map(); // `${projectId}/${userId}` -> level
  for (const project of projects.filter((p) => p.accessControl)) {
    for (const m of project.organization.members) {
      if (chance(random, 0.25)) explicit.set(`${project.id}/${m.userId}`, chance(random, 0.8) ? 1 : 8);
    }
  }

  // Access-control rows on the project itself (resource `project`), for one project in five.
  const projectRows = new Map(); // projectId -> rows
  for (const project of projects) {
    const rows = [];
    if (chance(random, 0.2)) {
      const id = String(project.id);
      if (chance(random, 0.5)) rows.push(row(pick(random, ['none', 'member']), id));
      for (const roleId of sample(random, project.organization.roleIds, 1 + Math.floor(random() * 2))) {
        rows.push(row(pick(random, ['none', 'member', 'admin']), id, { roleId }));
      }
      if (chance(random, 0.5)) rows.push(row(pick(random, ['none', 'member']), id, { memberId: pick(random, project.organization.members).memberId }));
    }
    projectRows.set(project.id, rows);
  }

  // Resource-level rows (resource_id null): a default row for half, 0-3 role rows, 0-2 member rows.
  const resourceRows = new Map(); // projectId -> Map(resource -> rows)
  for (const project of projects) {
    const byResource = new Map();
    for (const resource of RESOURCES) {
      const rows = [];
      if (chance(random, 0.5)) rows.push(row(pick(random, ['none', 'viewer', 'editor']), null));
      for (const roleId of sample(random, project.organization.roleIds, Math.floor(random() * 4))) {
        rows.push(row(pick(random, ['none', 'viewer', 'editor', 'manager']), null, { roleId }));
      }
      for (const m of sample(random, project.organization.members, Math.floor(random() * 3))) {
        rows.push(row(pick(random, ['none', 'viewer', 'editor', 'manager']), null, { memberId: m.memberId }));
      }
      byResource.set(resource, rows);
    }
    resourceRows.set(project.id, byResource);
  }
  return { organizations, projects, memberships, explicit, projectRows, resourceRows };
}

/**
 * The fixed request list: mostly users asking about projects of their own organizations; 14% ask
 * about any project (mostly another organization's), 1% about a project that does not exist.
 */
function generateRequests(random, world) {
  const membershipsOf = new Map();
  for (const m of world.memberships) membershipsOf.set(m.userId, [...(membershipsOf.get(m.userId) ?? []), m]);
  return Array.from({ length: SIZE.requests }, (_, i) => {
    const userId = 1 + Math.floor(random() * SIZE.users);
    const r = random();
    const projectId =
      r < 0.01 ? 10_000 + i : r < 0.15 ? pick(random, world.projects).id : pick(random, pick(random, membershipsOf.get(userId)).organization.projects).id;
    return { userId, projectId, resource: pick(random, RESOURCES), action: pick(random, ACTIONS) };
  });
}

// --- Warden's side -----------------------------------------------------------------------------

/**
 * The facts as Warden's in-memory hot path holds them, in Maps built once: per (organization, user)
 * the OrganizationFacts with the membership id and roles, per (project, user) the ProjectFacts
 * (effective level from resolveProjectLevel, computed when the facts are loaded), per (project,
 * resource) the access-control rows.
 */
function wardenState(world) {
  const keyPolicy = { organizationName: '', allowedScopes: null, maxLifetimeDays: null };
  const orgFacts = (org, level) => ({ id: org.id, name: org.name, level, membersCanUsePersonalApiKeys: true, keyPolicy });
  const organizations = new Map(); // orgId -> { outsider, members: Map(userId -> { facts, memberId, roleIds }) }
  for (const org of world.organizations) organizations.set(org.id, { outsider: orgFacts(org, null), members: new Map() });
  for (const m of world.memberships) {
    organizations.get(m.organization.id).members.set(m.userId, { facts: orgFacts(m.organization, m.level), memberId: m.memberId, roleIds: m.roleIds });
  }

  const projects = new Map(); // projectId -> { organizationId, outsider, users: Map(userId -> ProjectFacts), rows: Map(resource -> rows) }
  for (const p of world.projects) {
    const base = { id: p.id, organizationId: p.organization.id };
    const users = new Map();
    for (const m of p.organization.members) {
      const { level } = resolveProjectLevel({
        projectId: p.id,
        organizationLevel: m.level,
        organizationMemberId: m.memberId,
        roleIds: m.roleIds,
        accessControl: p.accessControl,
        explicitLevel: world.explicit.get(`${p.id}/${m.userId}`) ?? null,
        rows: world.projectRows.get(p.id),
      });
      users.set(m.userId, { ...base, effectiveLevel: level });
    }
    projects.set(p.id, { organizationId: p.organization.id, outsider: { ...base, effectiveLevel: null }, users, rows: world.resourceRows.get(p.id) });
  }
  return { organizations, projects };
}

const ROUTE_ACCESS = Object.fromEntries(
  RESOURCES.map((scope) => [scope, Object.fromEntries(ACTIONS.map((action) => [action, { kind: 'scoped', scope, action }]))]),
);

/** Requests in Warden's shape: the signed-in user and the route's declared access. */
const toWarden = (q) => ({ ...q, principal: { kind: 'user', userId: q.userId }, access: ROUTE_ACCESS[q.resource][q.action] });

/**
 * One Warden decision: look the facts up, decide() (membership, project access), then the
 * resource-level resolution (resolveAccess + satisfies). Returns true, or the denial's reason.
 */
function wardenDecides(state, q) {
  const project = state.projects.get(q.projectId);
  if (!project) return decide({ principal: q.principal, access: q.access, project: 'missing', now }).reason;
  const org = state.organizations.get(project.organizationId);
  const member = org.members.get(q.userId);
  const decision = decide({
    principal: q.principal,
    access: q.access,
    organization: member ? member.facts : org.outsider,
    project: project.users.get(q.userId) ?? project.outsider,
    now,
  });
  if (!decision.allow) return decision.reason;
  const { level } = resolveAccess({
    resource: q.resource,
    objectId: null,
    isCreator: false,
    organizationLevel: member.facts.level,
    organizationMemberId: member.memberId,
    roleIds: member.roleIds,
    rows: project.rows.get(q.resource),
  });
  return satisfies(q.resource, level, requiredLevel(q.resource, q.action)) || 'resource level';
}

// --- casbin's side -----------------------------------------------------------------------------

// RBAC with domains, domain = project. The cheap string comparisons come before g() so casbin
// skips the role lookup for policy lines of other projects, resources or actions (its best order).
// casbin's enforce evaluates the matcher against every p line (it has no index), so its cost grows
// with the number of p lines; this policy keeps them few (see casbinPolicy).
const CASBIN_MODEL = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.dom == p.dom && r.obj == p.obj && r.act == p.act && g(r.sub, p.sub, r.dom)
`;

const PROJECT_ORDER = ['none', 'member', 'admin'];
const RESOURCE_ORDER = ['none', 'viewer', 'editor', 'manager'];

/**
 * PostHog's resolution among rows, restated plainly (not with Warden's code, so that agreement
 * checks both): the highest of the member's own and their roles' rows; without any, the highest
 * default row; without any, `fallback`.
 */
function resolvedLevel(rows, membership, order, fallback) {
  const highest = (levels) => levels.reduce((a, b) => (order.indexOf(a) >= order.indexOf(b) ? a : b));
  const mine = rows.filter((r) => r.organizationMemberId === membership.memberId || (r.roleId !== null && membership.roleIds.includes(r.roleId)));
  if (mine.length > 0) return highest(mine.map((r) => r.accessLevel));
  const defaults = rows.filter((r) => r.organizationMemberId === null && r.roleId === null);
  if (defaults.length > 0) return highest(defaults.map((r) => r.accessLevel));
  return fallback;
}

/** May this member enter the project? Admins always; else its access rows; else the legacy rule. */
function entersProject(world, membership, project) {
  if (membership.level >= 8) return true;
  const level = resolvedLevel(world.projectRows.get(project.id), membership, PROJECT_ORDER, null);
  if (level !== null) return level !== 'none';
  return !project.accessControl || world.explicit.has(`${project.id}/${membership.userId}`);
}

/** What the member may do with each resource of the project, e.g. `feature_flag:rw|insight:r|dashboard:-`. */
function permissionProfile(world, membership, project) {
  return RESOURCES.map((resource) => {
    const level = membership.level >= 8 ? 'manager' : resolvedLevel(world.resourceRows.get(project.id).get(resource), membership, RESOURCE_ORDER, 'editor');
    const rank = RESOURCE_ORDER.indexOf(level);
    return `${resource}:${rank >= 2 ? 'rw' : rank >= 1 ? 'r' : '-'}`;
  }).join('|');
}

/**
 * casbin cannot state PostHog's rules (member and role rows override the default row, the highest
 * level wins, admins bypass, private projects), so its policy holds their outcome as grants: in
 * each project (domain), every member who may enter it is assigned (g) the casbin role of their
 * permission profile, and each profile present in a project is granted (p) its resource/action
 * pairs there. Non-members, members kept out of a project and unknown projects get no line: denied.
 */
function casbinPolicy(world) {
  const groupings = [];
  const profilesIn = new Map(); // projectId -> Set(profile)
  for (const m of world.memberships) {
    for (const project of m.organization.projects) {
      if (!entersProject(world, m, project)) continue;
      const profile = permissionProfile(world, m, project);
      groupings.push([`user:${m.userId}`, profile, String(project.id)]);
      profilesIn.set(project.id, (profilesIn.get(project.id) ?? new Set()).add(profile));
    }
  }
  const policies = [];
  for (const [projectId, profiles] of profilesIn) {
    for (const profile of profiles) {
      for (const grant of profile.split('|')) {
        const [resource, can] = grant.split(':');
        if (can.includes('r')) policies.push([profile, String(projectId), resource, 'read']);
        if (can.includes('w')) policies.push([profile, String(projectId), resource, 'write']);
      }
    }
  }
  return { policies, groupings };
}

async function casbinEnforcer(world) {
  const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL));
  const { policies, groupings } = casbinPolicy(world);
  await enforcer.addPolicies(policies);
  await enforcer.addGroupingPolicies(groupings);
  return { enforcer, policies: policies.length, groupings: groupings.length };
}

/** Requests in casbin's shape: [sub, dom, obj, act]. */
const toCasbin = (q) => [`user:${q.userId}`, String(q.projectId), q.resource, q.action];

// --- the comparison ----------------------------------------------------------------------------

/**
 * A timed call replays the next `batch` requests of the list (wrapping around), so that successive
 * calls and rounds walk the whole list. casbin is so much slower that it gets smaller batches; the
 * printed rates are per decision.
 */
const WARDEN_BATCH = 1_000;
const CASBIN_BATCH = 10;
const ITERATIONS = 100;

function replay(decideOne, batch, length) {
  let next = 0;
  return () => {
    let grants = 0;
    for (let k = 0; k < batch; k++, next = (next + 1) % length) if (decideOne(next) === true) grants++;
    return grants;
  };
}

function replayAsync(decideOne, batch, length) {
  let next = 0;
  return async () => {
    let grants = 0;
    for (let k = 0; k < batch; k++, next = (next + 1) % length) if ((await decideOne(next)) === true) grants++;
    return grants;
  };
}

/** Both engines must give the same allow/deny on every request, or the comparison means nothing. */
async function checkAgreement(requests, warden, casbin) {
  const outcomes = new Map();
  for (let i = 0; i < requests.length; i++) {
    const w = warden(i);
    const c = await casbin(i);
    if ((w === true) !== c) {
      throw new Error(`Warden and casbin disagree on ${JSON.stringify(requests[i])}: Warden ${w}, casbin ${c}`);
    }
    const outcome = w === true ? 'grant' : w;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  return outcomes;
}

async function benchWardenVsCasbin() {
  const random = seeded(SEED);
  const world = generateWorld(random);
  const requests = generateRequests(random, world);

  const state = wardenState(world);
  const wardenRequests = requests.map(toWarden);
  const warden = (i) => wardenDecides(state, wardenRequests[i]);

  const { enforcer, policies, groupings } = await casbinEnforcer(world);
  const casbinRequests = requests.map(toCasbin);
  const sync = typeof enforcer.enforceSync === 'function';
  // casbin 5.x has enforceSync; older versions only the async enforce.
  const casbin = sync ? (i) => enforcer.enforceSync(...casbinRequests[i]) : (i) => enforcer.enforce(...casbinRequests[i]);

  const outcomes = await checkAgreement(requests, warden, casbin);

  const n = requests.length;
  const { a, b } = await compare(replay(warden, WARDEN_BATCH, n), sync ? replay(casbin, CASBIN_BATCH, n) : replayAsync(casbin, CASBIN_BATCH, n), {
    iterations: ITERATIONS,
  });
  const wardenNs = a / WARDEN_BATCH;
  const casbinNs = b / CASBIN_BATCH;
  console.log(`Warden vs casbin ${CASBIN_VERSION} (${sync ? 'enforceSync' : 'enforce'}), same policy, same ${requests.length} requests`);
  console.log(
    `  policy: ${SIZE.users} users, ${world.memberships.length} memberships, ${SIZE.projects} projects, ` +
      `${SIZE.organizations} organizations, ${SIZE.rolesPerOrganization} roles each; casbin: ${policies} p lines, ${groupings} g lines`,
  );
  console.log(`  requests: ${[...outcomes].map(([k, n]) => `${n} ${k}`).join(', ')} (both engines agree on all)`);
  console.log(`  Warden decisions/s: ${(1e9 / wardenNs).toFixed(0).padStart(10)}`);
  console.log(`  casbin decisions/s: ${(1e9 / casbinNs).toFixed(0).padStart(10)}`);
  console.log(`  ratio Warden/casbin: ${(casbinNs / wardenNs).toFixed(1)}x`);
}
