/**
 * The words of the access-matrix file and what each capability flag means in PostHog's access
 * model. One place: the parser and the export read it; docs/matrix-as-code.md describes the words.
 */
import type { AccessLevel } from '../access/resources.js';

/** Keys of the file's root. */
export const ROOT_KEYS = ['access_matrix', 'projects', 'sso_domain'] as const;
/** Keys of a group besides its projects. */
export const GROUP_KEYS = ['members', 'idp_groups'] as const;
/** Keys of a group's project entry besides the capability flags. */
export const GRANT_KEYS = ['role', 'resources'] as const;
/** The key of a service account's project entry. */
export const SCOPES_KEY = 'api_key_scopes';

export const SERVICE_ACCOUNT_SUFFIX = '_service_account';
export const PROJECT_SUFFIX = '_project';
/** `resources:` value meaning "no rule for this group": the project's default applies. */
export const DEFAULT_LEVEL = 'default';
export const PROJECT_ACCESS_LEVELS = ['none', 'member', 'admin'] as const;

/**
 * A capability flag: `true` gives the group `granted` on the resource, `false` (or no flag) gives
 * `withheld`, unless `resources:` names the resource instead.
 */
export interface Capability {
  flag: string;
  resource: string;
  granted: AccessLevel;
  withheld: AccessLevel;
}

export const CAPABILITIES: readonly Capability[] = [
  { flag: 'can_create_flags', resource: 'feature_flag', granted: 'editor', withheld: 'viewer' },
  { flag: 'can_view_recordings', resource: 'session_recording', granted: 'viewer', withheld: 'none' },
  { flag: 'can_create_insights', resource: 'insight', granted: 'editor', withheld: 'viewer' },
];

/** `can_delete_flags: false` puts flag deletion behind an approval (this approval action) for the group. */
export const DELETE_FLAGS = 'can_delete_flags';
export const DELETE_FLAGS_ACTION = 'feature_flag.delete';

export const capabilityOf = (resource: string) => CAPABILITIES.find((c) => c.resource === resource);
export const isServiceAccountKey = (key: string) => key.endsWith(SERVICE_ACCOUNT_SUFFIX) && key.length > SERVICE_ACCOUNT_SUFFIX.length;

/** Project names compare case-insensitively, with `_`, `-` and spaces alike. */
export const normalizeProjectName = (name: string) =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ');

/** The project a `<name>_project` key means when `projects:` does not map it. */
export function defaultProjectName(key: string): string | null {
  return key.endsWith(PROJECT_SUFFIX) && key.length > PROJECT_SUFFIX.length ? key.slice(0, -PROJECT_SUFFIX.length) : null;
}

/** The key export writes for a project: its name in snake case + `_project`. */
export const projectKeyFor = (name: string) =>
  `${
    normalizeProjectName(name)
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'unnamed'
  }${PROJECT_SUFFIX}`;
