/**
 * The organization's live access in the matrix's shape, and the ids behind each name (which the
 * apply needs). What the matrix manages:
 * - every role (except names ending in _service_account, which a file could not name), its
 *   members, its project rules, its resource-wide rules and its flag-deletion approval policies;
 * - the role-only group mappings (no level) of the chosen SSO domain;
 * - every service account whose name ends in _service_account: its keys scoped to exactly one
 *   project and its project rules.
 * Object-level rules, rules for single members, approval policies for everyone, level mappings and
 * other service accounts are left alone (and reported as warnings where they look related).
 */
import type { AccessLevel } from '../access/resources.js';
import { listServiceAccounts } from '../domain/organizations/service-accounts.js';
import type { Queryable } from '../store/database.js';
import { projectName, type Catalog } from './catalog.js';
import type { GroupGrant, MatrixState, ProjectAccessLevel } from './model.js';
import { emptyState } from './model.js';
import { DELETE_FLAGS_ACTION, isServiceAccountKey } from './vocabulary.js';

export interface LiveIds {
  /** Lowercase role name -> role id. */
  roles: Map<string, string>;
  /** `${roleId} ${email}` -> role membership id. */
  roleMemberships: Map<string, string>;
  /** `${roleId} ${group}` -> group mapping id. */
  mappings: Map<string, string>;
  /** `${roleId} ${projectId}` -> approval policy id. */
  policies: Map<string, string>;
  /** Service account name -> { uuid, user id, membership id }. */
  serviceAccounts: Map<string, { uuid: string; userId: number; membershipId: string }>;
  /** `${name} ${projectId}` -> key id. */
  keys: Map<string, string>;
}

export interface LiveState {
  state: MatrixState;
  ids: LiveIds;
  warnings: string[];
}

const grant = (): GroupGrant => ({ projectAccess: null, resources: new Map(), flagDeletionNeedsApproval: false });

export async function readLiveState(q: Queryable, catalog: Catalog, ssoDomainId: string | null): Promise<LiveState> {
  const organizationId = catalog.organizationId;
  const state = emptyState();
  const warnings: string[] = [];
  const ids: LiveIds = { roles: new Map(), roleMemberships: new Map(), mappings: new Map(), policies: new Map(), serviceAccounts: new Map(), keys: new Map() };

  const roles = await q.query<{ id: string; name: string }>('SELECT id::text AS id, name FROM roles WHERE organization_id = $1 ORDER BY created_at, id', [
    organizationId,
  ]);
  const byId = new Map<string, string>();
  for (const role of roles) {
    if (isServiceAccountKey(role.name)) {
      warnings.push(`role "${role.name}" is not managed: a role's name cannot end in _service_account in the file`);
      continue;
    }
    const lower = role.name.toLowerCase();
    ids.roles.set(lower, role.id);
    byId.set(role.id, lower);
    state.groups.set(lower, { name: role.name, members: [], idpGroups: ssoDomainId ? [] : null, projects: new Map() });
  }
  const group = (roleId: string) => {
    const lower = byId.get(roleId);
    return lower === undefined ? undefined : state.groups.get(lower);
  };
  const grantIn = (roleId: string, projectId: number) => {
    const g = group(roleId);
    if (!g) return undefined;
    if (!g.projects.has(projectId)) g.projects.set(projectId, grant());
    return g.projects.get(projectId)!;
  };

  for (const m of await q.query<{ id: string; role_id: string; email: string; expires_at: Date | null }>(
    `SELECT rm.id::text AS id, rm.role_id::text AS role_id, lower(u.email) AS email, rm.expires_at
       FROM role_memberships rm JOIN roles r ON r.id = rm.role_id
       JOIN organization_memberships om ON om.id = rm.organization_member_id JOIN users u ON u.id = om.user_id
      WHERE r.organization_id = $1 ORDER BY u.email`,
    [organizationId],
  )) {
    const g = group(m.role_id);
    if (!g) continue;
    g.members!.push(m.email);
    if (m.expires_at) (g.expiring ??= new Map()).set(m.email, new Date(m.expires_at).toISOString());
    ids.roleMemberships.set(`${m.role_id} ${m.email}`, m.id);
  }

  for (const row of await q.query<{ role_id: string; team_id: number; resource: string; access_level: AccessLevel }>(
    `SELECT ac.role_id::text AS role_id, ac.team_id, ac.resource, ac.access_level
       FROM access_controls ac JOIN roles r ON r.id = ac.role_id
      WHERE r.organization_id = $1 AND ac.organization_member_id IS NULL
        AND ((ac.resource = 'project' AND ac.resource_id = ac.team_id::text) OR (ac.resource <> 'project' AND ac.resource_id IS NULL))`,
    [organizationId],
  )) {
    const g = grantIn(row.role_id, row.team_id);
    if (!g) continue;
    if (row.resource === 'project') g.projectAccess = row.access_level as ProjectAccessLevel;
    else g.resources.set(row.resource, row.access_level);
  }

  for (const policy of await q.query<{ id: string; role_id: string; team_id: number }>(
    `SELECT ap.id::text AS id, ap.role_id::text AS role_id, ap.team_id
       FROM approval_policies ap JOIN roles r ON r.id = ap.role_id WHERE r.organization_id = $1 AND ap.action = $2`,
    [organizationId, DELETE_FLAGS_ACTION],
  )) {
    const g = grantIn(policy.role_id, policy.team_id);
    if (!g) continue;
    g.flagDeletionNeedsApproval = true;
    ids.policies.set(`${policy.role_id} ${policy.team_id}`, policy.id);
  }

  if (ssoDomainId) {
    for (const m of await q.query<{ id: string; role_id: string; group_name: string }>(
      `SELECT id::text AS id, role_id::text AS role_id, group_name FROM sso_group_mappings
        WHERE domain_id = $1 AND role_id IS NOT NULL AND level IS NULL ORDER BY group_name`,
      [ssoDomainId],
    )) {
      const g = group(m.role_id);
      if (!g) continue;
      g.idpGroups!.push(m.group_name);
      ids.mappings.set(`${m.role_id} ${m.group_name}`, m.id);
    }
  }
  for (const g of state.groups.values()) {
    g.members!.sort();
    g.idpGroups?.sort();
  }

  await readServiceAccounts(q, catalog, state, ids, warnings);
  return { state, ids, warnings };
}

async function readServiceAccounts(q: Queryable, catalog: Catalog, state: MatrixState, ids: LiveIds, warnings: string[]): Promise<void> {
  for (const account of await listServiceAccounts(q, catalog.organizationId)) {
    const name = account.first_name;
    if (!isServiceAccountKey(name)) continue;
    if (state.serviceAccounts.has(name)) {
      warnings.push(`service account "${name}" exists twice; only the first is managed`);
      continue;
    }
    const [membership] = await q.query<{ id: string }>('SELECT id::text AS id FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [
      catalog.organizationId,
      account.id,
    ]);
    ids.serviceAccounts.set(name, { uuid: account.uuid, userId: account.id, membershipId: membership!.id });
    const keys = new Map<number, { scopes: string[] }>();
    for (const key of await q.query<{ id: string; label: string; scopes: string[]; scoped_teams: number[] | null }>(
      'SELECT id, label, scopes, scoped_teams FROM personal_api_keys WHERE user_id = $1 ORDER BY created_at, id',
      [account.id],
    )) {
      const project = key.scoped_teams?.length === 1 ? key.scoped_teams[0]! : null;
      if (project === null || !catalog.projects.some((p) => p.id === project)) {
        warnings.push(`${name}: key "${key.label}" is not scoped to exactly one project of this organization; left alone`);
      } else if (keys.has(project)) {
        warnings.push(`${name}: a second key for ${projectName(catalog, project)} ("${key.label}") is left alone`);
      } else {
        keys.set(project, { scopes: [...key.scopes].sort() });
        ids.keys.set(`${name} ${project}`, key.id);
      }
    }
    const projectAccess = new Map<number, ProjectAccessLevel>();
    for (const row of await q.query<{ team_id: number; access_level: ProjectAccessLevel }>(
      `SELECT team_id, access_level FROM access_controls
        WHERE organization_member_id = $1 AND resource = 'project' AND resource_id = team_id::text`,
      [membership!.id],
    )) {
      projectAccess.set(row.team_id, row.access_level);
    }
    state.serviceAccounts.set(name, { name, keys, projectAccess });
  }
}
