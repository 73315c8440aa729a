/**
 * Makes a plan's changes, in the caller's transaction, through the domain's own use cases (roles,
 * access controls, approval policies, group mappings, service accounts and their keys), so each
 * change is checked and logged exactly as when made by hand. A change the domain refuses stops the
 * apply; the transaction then changes nothing.
 */
import { putAccessControl } from '../domain/access-control/access-controls.js';
import type { Actor } from '../domain/actor.js';
import { updateApiKey } from '../domain/organizations/api-keys.js';
import { createApprovalPolicy, deleteApprovalPolicy } from '../domain/access-control/approval-policies.js';
import { DomainError } from '../domain/errors.js';
import { createGroupMapping, deleteGroupMapping } from '../domain/sso/group-mapping-settings.js';
import { loadResourceActor } from '../domain/access-control/resource-access.js';
import { addRoleMember, createRole, deleteRole, removeRoleMember, updateRole } from '../domain/access-control/roles.js';
import {
  createServiceAccount,
  createServiceAccountKey,
  deleteServiceAccount,
  deleteServiceAccountKey,
  findServiceAccount,
} from '../domain/organizations/service-accounts.js';
import type { Queryable } from '../store/database.js';
import type { Catalog, CatalogDomain } from './catalog.js';
import { MatrixError } from './errors.js';
import type { LiveIds } from './live.js';
import type { MatrixChange } from './plan.js';
import { DELETE_FLAGS_ACTION } from './vocabulary.js';

/** A key made by the apply: its value is shown once. */
export interface NewKey {
  service_account: string;
  project_id: number;
  project_name: string;
  key_id: string;
  label: string;
  scopes: string[];
  value: string;
}

export const keyLabel = (projectName: string) => `access matrix: ${projectName}`.slice(0, 40);

export async function applyChanges(
  tx: Queryable,
  actor: Actor & { userId: number },
  catalog: Catalog,
  ids: LiveIds,
  ssoDomain: CatalogDomain | null,
  changes: readonly MatrixChange[],
  fileName: string,
): Promise<NewKey[]> {
  const keys: NewKey[] = [];
  for (const change of changes) {
    try {
      const key = await applyChange(tx, actor, catalog, ids, ssoDomain, change);
      if (key) keys.push(key);
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'validation') {
        throw new MatrixError([{ ...(change.origin ?? { path: '' }), message: `${change.op} ${change.description}: ${err.message}` }], fileName);
      }
      throw err;
    }
  }
  return keys;
}

async function applyChange(
  tx: Queryable,
  actor: Actor & { userId: number },
  catalog: Catalog,
  ids: LiveIds,
  ssoDomain: CatalogDomain | null,
  c: MatrixChange,
): Promise<NewKey | null> {
  const org = catalog.organizationId;
  const roleId = () => {
    const id = ids.roles.get(c.subject.toLowerCase());
    if (!id) throw new Error(`access matrix: no role ${c.subject}`);
    return id;
  };
  const account = () => {
    const a = ids.serviceAccounts.get(c.subject);
    if (!a) throw new Error(`access matrix: no service account ${c.subject}`);
    return a;
  };
  const projectId = c.project?.id ?? 0;
  const level = (c.after as string | null) ?? null;

  switch (c.kind) {
    case 'role':
      if (c.op === '+') ids.roles.set(c.subject.toLowerCase(), (await createRole(tx, actor, org, c.subject)).id);
      else await deleteRole(tx, actor, org, roleId());
      return null;
    case 'role_name':
      await updateRole(tx, actor, org, roleId(), { name: c.after as string });
      return null;
    case 'role_member': {
      if (c.op === '+') {
        await addRoleMember(tx, actor, org, roleId(), catalog.members.get(c.item!)!.uuid);
      } else {
        await removeRoleMember(tx, actor, org, roleId(), ids.roleMemberships.get(`${roleId()} ${c.item}`)!);
      }
      return null;
    }
    case 'idp_group':
      if (!ssoDomain) throw new Error('access matrix: IdP groups without a domain');
      if (c.op === '+') await createGroupMapping(tx, actor, org, ssoDomain.id, { group_name: c.item!, role_id: roleId() });
      else await deleteGroupMapping(tx, actor, org, ssoDomain.id, ids.mappings.get(`${roleId()} ${c.item}`)!);
      return null;
    case 'project_access':
      await putAccessControl(tx, actor, projectId, { kind: 'project' }, { access_level: level, role: roleId() });
      return null;
    case 'resource_access':
      await putAccessControl(tx, actor, projectId, { kind: 'resource' }, { access_level: level, role: roleId(), resource: c.resource! });
      return null;
    case 'approval_policy': {
      const resourceActor = await loadResourceActor(tx, projectId, actor.userId);
      if (!resourceActor) throw new Error('access matrix: the actor left the organization');
      if (c.op === '+') await createApprovalPolicy(tx, actor, resourceActor, { action: DELETE_FLAGS_ACTION, role: roleId() });
      else await deleteApprovalPolicy(tx, actor, resourceActor, ids.policies.get(`${roleId()} ${projectId}`)!);
      return null;
    }
    case 'service_account': {
      if (c.op === '-') {
        await deleteServiceAccount(tx, actor, org, account().uuid);
        return null;
      }
      const created = await createServiceAccount(tx, actor, org, { name: c.subject });
      const [membership] = await tx.query<{ id: string }>('SELECT id::text AS id FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [
        org,
        created.id,
      ]);
      ids.serviceAccounts.set(c.subject, { uuid: created.uuid, userId: created.id, membershipId: membership!.id });
      return null;
    }
    case 'service_account_access':
      await putAccessControl(tx, actor, projectId, { kind: 'project' }, { access_level: level, organization_member: account().membershipId });
      return null;
    case 'service_account_key': {
      const { uuid } = account();
      const keyId = ids.keys.get(`${c.subject} ${projectId}`);
      if (c.op === '-') {
        await deleteServiceAccountKey(tx, actor, org, uuid, keyId!);
        return null;
      }
      const scopes = c.after as string[];
      if (c.op === '~') {
        await updateApiKey(tx, actor, await findServiceAccount(tx, org, uuid), keyId!, { scopes });
        return null;
      }
      const label = keyLabel(c.project!.name);
      const { key, value } = await createServiceAccountKey(tx, actor, org, uuid, { label, scopes, scoped_teams: [projectId] });
      ids.keys.set(`${c.subject} ${projectId}`, key.id);
      return { service_account: c.subject, project_id: projectId, project_name: c.project!.name, key_id: key.id, label, scopes, value };
    }
  }
}
