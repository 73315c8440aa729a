/**
 * The organization's live access written as an access-matrix file, in the source document's form
 * plus the optional sections, such that applying it changes nothing.
 */
import { Document, visit } from 'yaml';
import type { Catalog, CatalogDomain } from './catalog.js';
import type { GroupGrant, MatrixState } from './model.js';
import { CAPABILITIES, DEFAULT_LEVEL, DELETE_FLAGS, defaultProjectName, normalizeProjectName, projectKeyFor, SCOPES_KEY } from './vocabulary.js';

/** Project id -> the key the file uses, with a `projects:` entry where the name alone is not enough. */
function projectKeys(catalog: Catalog): { keyOf: Map<number, string>; mapping: Map<string, number> } {
  const keyOf = new Map<number, string>();
  const mapping = new Map<string, number>();
  const used = new Set<string>();
  for (const p of catalog.projects) {
    let key = projectKeyFor(p.name);
    const meant = catalog.projects.filter((q) => normalizeProjectName(q.name) === normalizeProjectName(defaultProjectName(key) ?? ''));
    const unambiguous = meant.length === 1 && meant[0]!.id === p.id;
    if (used.has(key) || !unambiguous) {
      key = `${key.slice(0, -'_project'.length)}_${p.id}_project`;
      mapping.set(key, p.id);
    }
    used.add(key);
    keyOf.set(p.id, key);
  }
  return { keyOf, mapping };
}

function grantObject(grant: GroupGrant): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (grant.projectAccess !== null) out.role = grant.projectAccess;
  const resources: Record<string, string> = {};
  for (const c of CAPABILITIES) {
    const level = grant.resources.get(c.resource);
    if (level === c.granted) out[c.flag] = true;
    else if (level === c.withheld) out[c.flag] = false;
    else resources[c.resource] = level ?? DEFAULT_LEVEL;
    if (c.resource === 'feature_flag') {
      if (grant.flagDeletionNeedsApproval) out[DELETE_FLAGS] = false;
      else if (level === 'editor' || level === 'manager') out[DELETE_FLAGS] = true;
    }
  }
  for (const [resource, level] of [...grant.resources].sort(([a], [b]) => a.localeCompare(b))) {
    if (!CAPABILITIES.some((c) => c.resource === resource)) resources[resource] = level;
  }
  if (Object.keys(resources).length > 0) out.resources = resources;
  return out;
}

export function exportMatrix(live: MatrixState, catalog: Catalog, ssoDomain: CatalogDomain | null, organizationName: string): string {
  const { keyOf, mapping } = projectKeys(catalog);
  const usedMappings = new Map<string, number>();
  const keyFor = (id: number) => {
    const key = keyOf.get(id)!;
    if (mapping.has(key)) usedMappings.set(key, id);
    return key;
  };
  const matrix: Record<string, unknown> = {};
  for (const group of live.groups.values()) {
    const entry: Record<string, unknown> = { members: group.members ?? [] };
    if (ssoDomain) entry.idp_groups = group.idpGroups ?? [];
    for (const [id, grant] of [...group.projects].sort(([a], [b]) => a - b)) entry[keyFor(id)] = grantObject(grant);
    matrix[group.name] = entry;
  }
  for (const account of live.serviceAccounts.values()) {
    const entry: Record<string, unknown> = {};
    for (const [id, key] of [...account.keys].sort(([a], [b]) => a - b)) entry[keyFor(id)] = { [SCOPES_KEY]: key.scopes };
    matrix[account.name] = entry;
  }
  const root: Record<string, unknown> = { access_matrix: matrix };
  if (ssoDomain) root.sso_domain = ssoDomain.domain;
  if (usedMappings.size > 0) root.projects = Object.fromEntries(usedMappings);
  const doc = new Document(root);
  // Time-bound memberships are listed like lasting ones (applying the file keeps them as they are:
  // a plan never makes a time-bound grant lasting); a comment says when each ends.
  for (const group of live.groups.values()) {
    if (!group.expiring || group.expiring.size === 0) continue;
    const node = doc.getIn(['access_matrix', group.name], true) as { commentBefore?: string | null } | undefined;
    const ends = [...group.expiring].sort(([a], [b]) => a.localeCompare(b)).map(([email, at]) => `${email} until ${at}`);
    if (node) node.commentBefore = ` time-bound: ${ends.join(', ')}`;
  }
  doc.commentBefore = ` Access matrix of ${organizationName.replace(/\s+/g, ' ')}, exported by Warden (warden matrix export).`;
  // Scope, member and group lists read best on one line, as in the source document.
  visit(doc, {
    Seq(_, node) {
      node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
