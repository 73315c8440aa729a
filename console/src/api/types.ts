/**
 * The API's shapes. Routes with response schemas (src/http/schemas/*.ts) give theirs: the same
 * TypeBox schemas that serialize the answer and describe it in /api/schema/, so a field the server
 * stops sending fails the console's type check. The rest are still taken from the server's
 * serializers until their routes have schemas. Types only: nothing of the server is bundled.
 * `Wire<T>` is what JSON makes of a value: dates arrive as strings.
 *
 * Pattern for a resource: `export type X = Wire<schemas.X>` with `import type * as schemas from
 * '../../../src/http/schemas/<resource>.js'` (each schema file exports `type X = Static<typeof X>`).
 */
import type * as show from '../../../src/http/serializers.js';
import type { showApprovalPolicy, showChangeRequest } from '../../../src/http/serializers/change-requests.js';
import type { role, roleMembership } from '../../../src/http/serializers/roles.js';
import type { Change } from '../../../src/domain/activity/activity.js';
import type * as accessControls from '../../../src/http/schemas/access-controls.js';
import type * as activityLog from '../../../src/http/schemas/activity-log.js';
import type * as apiKeys from '../../../src/http/schemas/api-keys.js';
import type * as common from '../../../src/http/schemas/common.js';
import type * as domains from '../../../src/http/schemas/domains.js';
import type * as invites from '../../../src/http/schemas/invites.js';
import type * as members from '../../../src/http/schemas/members.js';

export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends readonly (infer U)[]
      ? readonly Wire<U>[]
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> }
        : T;

export type UserBasic = Wire<common.UserBasic>;
export type Member = Wire<members.Member>;
export type Organization = Wire<ReturnType<typeof show.organization>>;
export type Project = Wire<ReturnType<typeof show.project>>;
export type Invite = Wire<invites.Invite>;
export type ApiKey = Wire<apiKeys.ApiKey>;
export type ProjectMember = Wire<ReturnType<typeof show.projectMember>>;
export type Role = Wire<ReturnType<typeof role>>;
export type RoleMembership = Wire<ReturnType<typeof roleMembership>>;
export type AccessControl = Wire<accessControls.AccessControl>;
export type AccessControls = Wire<accessControls.AccessControls>;
export type ActivityEntry = Wire<activityLog.ActivityEntry>;
export type ActivityChange = Change;
export type ChangeRequest = Wire<Awaited<ReturnType<typeof showChangeRequest>>>;
export type Domain = Wire<domains.Domain>;
export type GroupMapping = Wire<domains.GroupMapping>;
export type ChainStatus = Wire<activityLog.ChainReport>;

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
