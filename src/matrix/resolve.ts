/**
 * The file's meaning in one organization: project keys become projects, emails members, group
 * names roles, capability flags access levels. Problems (a project or member that does not exist,
 * a domain to map IdP groups on) name the line and column of the key that needs them.
 */
import type { AccessLevel } from '../access/resources.js';
import { DomainError } from '../domain/errors.js';
import { validateRoleName } from '../domain/access-control/roles.js';
import type { Catalog, CatalogDomain } from './catalog.js';
import { Problems } from './errors.js';
import type { GroupGrant, MatrixState, Origin } from './model.js';
import { emptyState } from './model.js';
import type { Located, MatrixFile, ParsedGrant } from './parse.js';
import { CAPABILITIES, DEFAULT_LEVEL, defaultProjectName, normalizeProjectName } from './vocabulary.js';

export interface DesiredState {
  state: MatrixState;
  /** The domain whose group mapping the file manages; null when no group names IdP groups. */
  ssoDomain: CatalogDomain | null;
}

export function resolveMatrix(file: MatrixFile, catalog: Catalog, fileName: string): DesiredState {
  const problems = new Problems(fileName);
  const state = emptyState();
  const projectOf = projectResolver(file, catalog, problems);

  for (const group of file.groups) {
    const name = group.name.value.trim();
    try {
      validateRoleName(name);
    } catch (err) {
      if (err instanceof DomainError) problems.add(group.name.origin, `group name: ${err.message}`);
      else throw err;
      continue;
    }
    const lower = name.toLowerCase();
    if (state.groups.has(lower)) {
      problems.add(group.name.origin, `group "${name}" appears twice (group names are case-insensitive)`);
      continue;
    }
    const projects = new Map<number, GroupGrant>();
    for (const parsed of group.grants) {
      const projectId = projectOf(parsed.project);
      if (projectId === null) continue;
      if (projects.has(projectId)) {
        problems.add(parsed.project.origin, `this project is already listed for group "${name}"`);
        continue;
      }
      projects.set(projectId, grantOf(parsed, problems));
    }
    state.groups.set(lower, {
      name,
      members: group.members === null ? null : members(group.members, catalog, problems),
      idpGroups: group.idpGroups === null ? null : [...new Set(group.idpGroups.map((g) => g.value))].sort(),
      projects,
      origin: group.name.origin,
    });
  }

  for (const account of file.serviceAccounts) {
    const name = account.name.value;
    if (state.serviceAccounts.has(name)) {
      problems.add(account.name.origin, `service account "${name}" appears twice`);
      continue;
    }
    const keys = new Map<number, { scopes: string[]; origin: Origin }>();
    for (const key of account.keys) {
      const projectId = projectOf(key.project);
      if (projectId === null) continue;
      if (keys.has(projectId)) problems.add(key.project.origin, `this project is already listed for "${name}"`);
      else keys.set(projectId, { scopes: key.scopes, origin: key.origin });
    }
    state.serviceAccounts.set(name, { name, keys, origin: account.name.origin });
  }

  const ssoDomain = chooseDomain(file, catalog, problems);
  problems.throwIfAny();
  return { state, ssoDomain };
}

/** Project key -> project id: `projects:` first, then `<name>_project` by name. */
function projectResolver(file: MatrixFile, catalog: Catalog, problems: Problems) {
  const byName = (name: string) => catalog.projects.filter((p) => normalizeProjectName(p.name) === normalizeProjectName(name));
  const resolved = new Map<string, number | null>();
  return (key: Located<string>): number | null => {
    if (!resolved.has(key.value)) {
      const mapped = file.projects.get(key.value);
      const origin = mapped?.origin ?? key.origin;
      let id: number | null = null;
      if (mapped && typeof mapped.value === 'number') {
        id = catalog.projects.some((p) => p.id === mapped.value) ? (mapped.value as number) : null;
        if (id === null) problems.add(origin, `project ${mapped.value} does not exist in this organization`);
      } else {
        const name = mapped ? (mapped.value as string) : defaultProjectName(key.value);
        if (name === null) {
          problems.add(key.origin, `unknown key "${key.value}"; expected members, idp_groups, or a project (a key ending in _project, or one of projects:)`);
        } else {
          const matches = byName(name);
          if (matches.length === 1) id = matches[0]!.id;
          else if (matches.length === 0) problems.add(origin, `project "${name}" does not exist in this organization`);
          else problems.add(origin, `"${name}" names ${matches.length} projects (ids ${matches.map((p) => p.id).join(', ')}); map it to an id under projects:`);
        }
      }
      resolved.set(key.value, id);
      return id;
    }
    // A key that failed once is reported once.
    return resolved.get(key.value) ?? null;
  };
}

/** Capability flags and `resources:` -> the role's resource-wide levels in one project. */
function grantOf(parsed: ParsedGrant, problems: Problems): GroupGrant {
  const resources = new Map<string, AccessLevel>();
  for (const [resource, level] of parsed.resources) {
    if (level.value !== DEFAULT_LEVEL) resources.set(resource, level.value as AccessLevel);
  }
  for (const c of CAPABILITIES) {
    const flag = parsed.flags.get(c.flag);
    if (flag) resources.set(c.resource, flag.value ? c.granted : c.withheld);
    else if (!parsed.resources.has(c.resource)) resources.set(c.resource, c.withheld);
  }
  if (parsed.deleteFlags?.value === true) {
    const level = resources.get('feature_flag');
    if (level !== 'editor' && level !== 'manager') {
      problems.add(parsed.deleteFlags.origin, 'can_delete_flags: true needs editor access to feature flags (can_create_flags: true)');
    }
  }
  return {
    projectAccess: parsed.role?.value ?? null,
    resources,
    flagDeletionNeedsApproval: parsed.deleteFlags?.value === false,
    origin: parsed.origin,
  };
}

function members(list: Located<string>[], catalog: Catalog, problems: Problems): string[] {
  const emails = new Set<string>();
  for (const item of list) {
    const email = item.value.toLowerCase();
    if (!catalog.members.has(email)) problems.add(item.origin, `${item.value} is not a member of this organization`);
    else emails.add(email);
  }
  return [...emails].sort();
}

/** `sso_domain:`, else the organization's one verified domain; needed only when a group names IdP groups. */
function chooseDomain(file: MatrixFile, catalog: Catalog, problems: Problems): CatalogDomain | null {
  const first = file.groups.find((g) => g.idpGroups !== null);
  if (file.ssoDomain) {
    const wanted = file.ssoDomain.value.trim().toLowerCase();
    const domain = catalog.domains.find((d) => d.domain.toLowerCase() === wanted);
    if (!domain) problems.add(file.ssoDomain.origin, `domain "${file.ssoDomain.value}" is not a domain of this organization`);
    return domain ?? null;
  }
  if (!first) return null;
  const verified = catalog.domains.filter((d) => d.verified);
  if (verified.length === 1) return verified[0]!;
  problems.add(
    first.name.origin,
    verified.length === 0
      ? 'idp_groups needs an SSO domain: the organization has no verified domain (name one with sso_domain:)'
      : `idp_groups needs an SSO domain: name one of ${verified.map((d) => d.domain).join(', ')} with sso_domain:`,
  );
  return null;
}
