/**
 * The access matrix's meaning, independent of YAML and of storage: the desired (or live) access of
 * an organization's groups (roles) and service accounts, project by project. The file is parsed
 * into this shape, the live organization is read into it, and the plan is the difference.
 */
import type { AccessLevel } from '../access/resources.js';

/** Project access a group's `role:` gives (PostHog's project access control levels). */
export type ProjectAccessLevel = 'none' | 'member' | 'admin';

/** Where a value came from in the file, for messages ("line 4, column 7"). */
export interface Origin {
  path: string;
  line?: number;
  column?: number;
}

/** One group's access in one project. */
export interface GroupGrant {
  /** The role's project rule (`role:`); null when the file sets none. */
  projectAccess: ProjectAccessLevel | null;
  /** Resource-wide rules for the role in the project: resource -> level (absent: no rule). */
  resources: Map<string, AccessLevel>;
  /** `can_delete_flags: false`: deleting a feature flag needs an approval for this role here. */
  flagDeletionNeedsApproval: boolean;
  origin?: Origin;
}

export interface GroupState {
  name: string;
  /** Member emails (lowercase, sorted); null when the file does not manage membership. */
  members: string[] | null;
  /** IdP group names mapped to this role (sorted); null when the file does not manage them. */
  idpGroups: string[] | null;
  /** Project id -> grant. */
  projects: Map<number, GroupGrant>;
  /** Live only: members whose membership is time-bound, email -> expiry (ISO); shown by export, kept by apply. */
  expiring?: Map<string, string>;
  origin?: Origin;
}

export interface ServiceAccountKeyState {
  /** Sorted scopes. */
  scopes: string[];
  origin?: Origin;
}

export interface ServiceAccountState {
  name: string;
  /** Project id -> the key scoped to that project. */
  keys: Map<number, ServiceAccountKeyState>;
  /** Project id -> its project rule (live only; the file implies `member` where it has a key). */
  projectAccess?: Map<number, ProjectAccessLevel>;
  origin?: Origin;
}

export interface MatrixState {
  /** Lowercase role name -> group. */
  groups: Map<string, GroupState>;
  /** Service account name -> account. */
  serviceAccounts: Map<string, ServiceAccountState>;
}

export const emptyState = (): MatrixState => ({ groups: new Map(), serviceAccounts: new Map() });

/** A project as the matrix names it. */
export interface ProjectRef {
  id: number;
  name: string;
}
