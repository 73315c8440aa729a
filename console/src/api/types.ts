/**
 * The API's shapes, taken from the server's own serializers (types only: nothing of the server is
 * bundled). `Wire<T>` is what JSON makes of a serializer's result: dates arrive as strings.
 * Shapes whose serializer the server does not export (the current user, service accounts,
 * approval policies) are written out here, next to the route that answers them.
 */
import type * as show from '../../../src/http/serializers.js';
import type { accessControl, accessControls } from '../../../src/http/serializers/access-controls.js';
import type { activityEntry } from '../../../src/http/serializers/activity-log.js';
import type { showApprovalPolicy, showChangeRequest } from '../../../src/http/serializers/change-requests.js';
import type { domain, groupMapping } from '../../../src/http/serializers/domains.js';
import type { role, roleMembership } from '../../../src/http/serializers/roles.js';
import type { ChainReport } from '../../../src/domain/activity-chain.js';
import type { Change } from '../../../src/domain/activity.js';

export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends readonly (infer U)[]
      ? readonly Wire<U>[]
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> }
        : T;

export type UserBasic = Wire<ReturnType<typeof show.userBasic>>;
export type Member = Wire<ReturnType<typeof show.member>>;
export type Organization = Wire<ReturnType<typeof show.organization>>;
export type Project = Wire<ReturnType<typeof show.project>>;
export type Invite = Wire<ReturnType<typeof show.invite>>;
export type ApiKey = Wire<ReturnType<typeof show.apiKey>>;
export type ProjectMember = Wire<ReturnType<typeof show.projectMember>>;
export type Role = Wire<ReturnType<typeof role>>;
export type RoleMembership = Wire<ReturnType<typeof roleMembership>>;
export type AccessControl = Wire<ReturnType<typeof accessControl>>;
export type AccessControls = Wire<ReturnType<typeof accessControls>>;
export type ActivityEntry = Wire<ReturnType<typeof activityEntry>>;
export type ActivityChange = Change;
export type ChangeRequest = Wire<Awaited<ReturnType<typeof showChangeRequest>>>;
export type Domain = Wire<ReturnType<typeof domain>>;
export type GroupMapping = Wire<ReturnType<typeof groupMapping>>;
export type ChainStatus = Wire<ChainReport>;

/** `GET /api/users/@me/` (src/http/routes/users.ts, userDetail). */
export type Me = UserBasic & {
  date_joined: string;
  last_login: string | null;
  organization: { id: string; name: string; slug: string; membership_level: number } | null;
  team: { id: number; name: string } | null;
  organizations: Array<{ id: string; name: string; slug: string; membership_level: number }>;
};

/** `…/service_accounts/` (src/http/routes/service-accounts.ts, serviceAccount). */
export interface ServiceAccount {
  id: string;
  uuid: string;
  name: string;
  level: number;
  is_service_account: true;
  created_by_id: number | null;
  created_at: string;
}

/** `…/approval_policies/` (src/http/routes/change-requests.ts). */
export type ApprovalPolicy = Wire<ReturnType<typeof showApprovalPolicy>>;

/** `POST …/domains/:id/scim/token/` (src/http/routes/scim-token.ts). */
export interface ScimToken {
  scim_enabled: boolean;
  scim_base_url: string;
  scim_bearer_token: string;
}
