/**
 * The plan: what must change for the live organization to match the file, as a list of changes in
 * the order the apply makes them (creations, then grants, then keys, then removals, then
 * deletions). Each change says what it is in a line a person reads (`+ role engineering`).
 */
import { projectName, type Catalog } from './catalog.js';
import type { GroupGrant, GroupState, MatrixState, Origin, ProjectAccessLevel } from './model.js';

export type ChangeKind =
  | 'role'
  | 'role_name'
  | 'role_member'
  | 'idp_group'
  | 'project_access'
  | 'resource_access'
  | 'approval_policy'
  | 'service_account'
  | 'service_account_access'
  | 'service_account_key';

export interface MatrixChange {
  op: '+' | '~' | '-';
  kind: ChangeKind;
  /** The role or service account. */
  subject: string;
  project: { id: number; name: string } | null;
  resource: string | null;
  /** A member email or IdP group name. */
  item: string | null;
  before: unknown;
  after: unknown;
  description: string;
  origin: Origin | null;
}

/** Execution order of the apply. */
const PHASE: Record<string, number> = {
  'role+': 0,
  'service_account+': 0,
  'role_name~': 1,
  'role_member+': 2,
  'idp_group+': 2,
  'project_access+': 2,
  'project_access~': 2,
  'resource_access+': 2,
  'resource_access~': 2,
  'approval_policy+': 2,
  'service_account_access+': 2,
  'service_account_access~': 2,
  'service_account_key+': 3,
  'service_account_key~': 3,
  'service_account_key-': 3,
  'role_member-': 4,
  'idp_group-': 4,
  'project_access-': 4,
  'resource_access-': 4,
  'approval_policy-': 4,
  'service_account_access-': 4,
  'service_account-': 5,
  'role-': 5,
};
export const phaseOf = (c: MatrixChange) => PHASE[`${c.kind}${c.op}`] ?? 9;

const scopesText = (scopes: unknown) => (Array.isArray(scopes) ? scopes.join(', ') : String(scopes));

export function planChanges(desired: MatrixState, live: MatrixState, catalog: Catalog): MatrixChange[] {
  const changes: MatrixChange[] = [];
  const project = (id: number) => ({ id, name: projectName(catalog, id) });
  const push = (c: Omit<MatrixChange, 'project' | 'resource' | 'item' | 'before' | 'after' | 'origin'> & Partial<MatrixChange>) =>
    changes.push({ project: null, resource: null, item: null, before: null, after: null, origin: null, ...c });

  for (const [lower, want] of desired.groups) {
    const have = live.groups.get(lower);
    if (!have) push({ op: '+', kind: 'role', subject: want.name, description: `role ${want.name}`, origin: want.origin ?? null });
    else if (have.name !== want.name) {
      push({
        op: '~',
        kind: 'role_name',
        subject: want.name,
        before: have.name,
        after: want.name,
        description: `role ${have.name} renamed to ${want.name}`,
        origin: want.origin ?? null,
      });
    }
    diffList(want.members, have ? have.members : [], (email, op) =>
      push({ op, kind: 'role_member', subject: want.name, item: email, description: `${want.name}: member ${email}`, origin: want.origin ?? null }),
    );
    diffList(want.idpGroups, have ? (have.idpGroups ?? []) : [], (name, op) =>
      push({ op, kind: 'idp_group', subject: want.name, item: name, description: `${want.name}: IdP group "${name}"`, origin: want.origin ?? null }),
    );
    diffGrants(want, have, project, push);
  }
  for (const [lower, have] of live.groups) {
    if (desired.groups.has(lower)) continue;
    diffList([], have.members, (email, op) => push({ op, kind: 'role_member', subject: have.name, item: email, description: `${have.name}: member ${email}` }));
    diffList([], have.idpGroups, (name, op) =>
      push({ op, kind: 'idp_group', subject: have.name, item: name, description: `${have.name}: IdP group "${name}"` }),
    );
    diffGrants({ ...have, projects: new Map() }, have, project, push);
    push({ op: '-', kind: 'role', subject: have.name, description: `role ${have.name}` });
  }

  for (const [name, want] of desired.serviceAccounts) {
    const have = live.serviceAccounts.get(name);
    const origin = want.origin ?? null;
    if (!have) push({ op: '+', kind: 'service_account', subject: name, description: `service account ${name}`, origin });
    const wantAccess = new Map<number, ProjectAccessLevel>([...want.keys.keys()].map((id) => [id, 'member']));
    diffAccess(name, wantAccess, have?.projectAccess ?? new Map(), project, push, origin);
    for (const [projectId, key] of want.keys) {
      const before = have?.keys.get(projectId)?.scopes ?? null;
      const where = `${name} in ${project(projectId).name}`;
      if (before === null) {
        push({
          op: '+',
          kind: 'service_account_key',
          subject: name,
          project: project(projectId),
          after: key.scopes,
          description: `${where}: key with ${scopesText(key.scopes)}`,
          origin: key.origin ?? origin,
        });
      } else if (before.join(' ') !== key.scopes.join(' ')) {
        push({
          op: '~',
          kind: 'service_account_key',
          subject: name,
          project: project(projectId),
          before,
          after: key.scopes,
          description: `${where}: key scopes ${scopesText(before)} -> ${scopesText(key.scopes)}`,
          origin: key.origin ?? origin,
        });
      }
    }
    for (const [projectId, key] of have?.keys ?? []) {
      if (!want.keys.has(projectId)) {
        push({
          op: '-',
          kind: 'service_account_key',
          subject: name,
          project: project(projectId),
          before: key.scopes,
          description: `${name} in ${project(projectId).name}: key with ${scopesText(key.scopes)}`,
          origin,
        });
      }
    }
  }
  for (const name of live.serviceAccounts.keys()) {
    if (desired.serviceAccounts.has(name)) continue;
    push({ op: '-', kind: 'service_account', subject: name, description: `service account ${name} (with its keys)` });
  }
  return changes
    .map((c, i) => ({ c, i }))
    .sort((a, b) => phaseOf(a.c) - phaseOf(b.c) || a.i - b.i)
    .map(({ c }) => c);
}

/** Additions and removals between two sorted lists; a null wanted list is not managed. */
function diffList(want: string[] | null, have: string[] | null, emit: (item: string, op: '+' | '-') => void): void {
  if (want === null) return;
  const haveSet = new Set(have ?? []);
  const wantSet = new Set(want);
  for (const item of want) if (!haveSet.has(item)) emit(item, '+');
  for (const item of have ?? []) if (!wantSet.has(item)) emit(item, '-');
}

type Push = (c: Omit<MatrixChange, 'project' | 'resource' | 'item' | 'before' | 'after' | 'origin'> & Partial<MatrixChange>) => void;
type ProjectOf = (id: number) => { id: number; name: string };

function diffGrants(want: GroupState, have: GroupState | undefined, project: ProjectOf, push: Push): void {
  const ids = new Set([...want.projects.keys(), ...(have?.projects.keys() ?? [])]);
  for (const id of [...ids].sort((a, b) => a - b)) {
    const w: GroupGrant | undefined = want.projects.get(id);
    const h: GroupGrant | undefined = have?.projects.get(id);
    const origin = w?.origin ?? want.origin ?? null;
    const where = `${want.name} in ${project(id).name}`;
    const level = (op: '+' | '~' | '-', kind: ChangeKind, resource: string | null, before: unknown, after: unknown) => {
      const what = resource ?? 'project access';
      const text = op === '~' ? `${what} ${String(before)} -> ${String(after)}` : `${what} ${String(op === '+' ? after : before)}`;
      push({ op, kind, subject: want.name, project: project(id), resource, before, after, description: `${where}: ${text}`, origin });
    };
    const diffLevel = (kind: ChangeKind, resource: string | null, before: string | null, after: string | null) => {
      if (before === after) return;
      level(before === null ? '+' : after === null ? '-' : '~', kind, resource, before, after);
    };
    diffLevel('project_access', null, h?.projectAccess ?? null, w?.projectAccess ?? null);
    const resources = new Set([...(w?.resources.keys() ?? []), ...(h?.resources.keys() ?? [])]);
    for (const resource of [...resources].sort()) {
      diffLevel('resource_access', resource, h?.resources.get(resource) ?? null, w?.resources.get(resource) ?? null);
    }
    const wantApproval = w?.flagDeletionNeedsApproval ?? false;
    const haveApproval = h?.flagDeletionNeedsApproval ?? false;
    if (wantApproval !== haveApproval) {
      push({
        op: wantApproval ? '+' : '-',
        kind: 'approval_policy',
        subject: want.name,
        project: project(id),
        before: haveApproval,
        after: wantApproval,
        description: `${where}: flag deletion needs approval`,
        origin,
      });
    }
  }
}

function diffAccess(
  name: string,
  want: Map<number, ProjectAccessLevel>,
  have: Map<number, ProjectAccessLevel>,
  project: ProjectOf,
  push: Push,
  origin: Origin | null,
): void {
  const ids = new Set([...want.keys(), ...have.keys()]);
  for (const id of [...ids].sort((a, b) => a - b)) {
    const before = have.get(id) ?? null;
    const after = want.get(id) ?? null;
    if (before === after) continue;
    const op = before === null ? '+' : after === null ? '-' : '~';
    const text = op === '~' ? `${before} -> ${after}` : String(after ?? before);
    push({
      op,
      kind: 'service_account_access',
      subject: name,
      project: project(id),
      before,
      after,
      description: `${name} in ${project(id).name}: project access ${text}`,
      origin,
    });
  }
}
