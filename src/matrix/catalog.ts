/**
 * What the file's names can mean in an organization: its projects, its members (people, by
 * email) and its SSO domains. Read once per plan, inside the plan's transaction.
 */
import type { Queryable } from '../store/database.js';
import type { ProjectRef } from './model.js';

export interface CatalogMember {
  email: string;
  uuid: string;
  membershipId: string;
}

export interface CatalogDomain {
  id: string;
  domain: string;
  verified: boolean;
}

export interface Catalog {
  organizationId: string;
  projects: ProjectRef[];
  /** Lowercase email -> member (people only, not service accounts). */
  members: Map<string, CatalogMember>;
  domains: CatalogDomain[];
}

export async function readCatalog(q: Queryable, organizationId: string): Promise<Catalog> {
  const projects = await q.query<ProjectRef>('SELECT id, name FROM projects WHERE organization_id = $1 ORDER BY id', [organizationId]);
  const members = await q.query<CatalogMember>(
    `SELECT lower(u.email) AS email, u.uuid::text AS uuid, m.id::text AS "membershipId"
       FROM organization_memberships m JOIN users u ON u.id = m.user_id
      WHERE m.organization_id = $1 AND u.is_active AND NOT u.is_service_account`,
    [organizationId],
  );
  const domains = await q.query<{ id: string; domain: string; verified: boolean }>(
    'SELECT id::text AS id, domain, verified_at IS NOT NULL AS verified FROM organization_domains WHERE organization_id = $1 ORDER BY domain',
    [organizationId],
  );
  return { organizationId, projects, members: new Map(members.map((m) => [m.email, m])), domains };
}

export const projectName = (catalog: Catalog, id: number) => catalog.projects.find((p) => p.id === id)?.name ?? `project ${id}`;
