/**
 * The API's shapes. Routes with response schemas (src/http/schemas/*.ts) give theirs: the same
 * TypeBox schemas that serialize the answer and describe it in /api/schema/, so a field the server
 * stops sending fails the console's type check. Types only: nothing of the server is bundled.
 * `Wire<T>` is what JSON makes of a value: dates arrive as strings.
 *
 * Pattern for a resource: `export type X = Wire<schemas.X>` with `import type * as schemas from
 * '../../../src/http/schemas/<resource>.js'` (each schema file exports `type X = Static<typeof X>`).
 */
import type { Static } from '@sinclair/typebox';
import type * as accessRequests from '../../../src/http/schemas/access-requests.js';
import type * as approvalPolicies from '../../../src/http/schemas/approval-policies.js';
import type * as changeRequests from '../../../src/http/schemas/change-requests.js';
import type * as organizations from '../../../src/http/schemas/organizations.js';
import type * as projectMembers from '../../../src/http/schemas/project-members.js';
import type * as projects from '../../../src/http/schemas/projects.js';
import type * as roles from '../../../src/http/schemas/roles.js';
import type * as scimToken from '../../../src/http/schemas/scim-token.js';
import type * as users from '../../../src/http/schemas/users.js';
import type * as serviceAccounts from '../../../src/http/schemas/service-accounts.js';
import type { Change } from '../../../src/domain/activity/activity.js';
import type * as accessControls from '../../../src/http/schemas/access-controls.js';
import type * as activityLog from '../../../src/http/schemas/activity-log.js';
import type * as apiKeys from '../../../src/http/schemas/api-keys.js';
import type * as common from '../../../src/http/schemas/common.js';
import type * as domains from '../../../src/http/schemas/domains.js';
import type * as invites from '../../../src/http/schemas/invites.js';
import type * as members from '../../../src/http/schemas/members.js';
import type * as accessReviews from '../../../src/http/schemas/access-reviews.js';

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
export type Organization = Wire<organizations.Organization>;
export type Project = Wire<projects.Project>;
export type Invite = Wire<invites.Invite>;
export type ApiKey = Wire<apiKeys.ApiKey>;
export type ProjectMember = Wire<projectMembers.ProjectMember>;
export type Role = Wire<roles.Role>;
export type RoleMembership = Wire<roles.RoleMembership>;
export type AccessControl = Wire<accessControls.AccessControl>;
export type AccessControls = Wire<accessControls.AccessControls>;
export type ActivityEntry = Wire<activityLog.ActivityEntry>;
export type ActivityChange = Change;
export type ChangeRequest = Wire<Static<typeof changeRequests.ChangeRequest>>;
export type Domain = Wire<domains.Domain>;
export type GroupMapping = Wire<domains.GroupMapping>;
export type ChainStatus = Wire<activityLog.ChainReport>;

/** `GET /api/users/@me/` (src/http/routes/users.ts). */
export type Me = Wire<users.User>;

/** `…/service_accounts/` (src/http/routes/service-accounts.ts). */
export type ServiceAccount = Wire<serviceAccounts.ServiceAccount>;

/** `…/approval_policies/` (src/http/routes/change-requests.ts). */
export type ApprovalPolicy = Wire<Static<typeof approvalPolicies.ApprovalPolicy>>;

/** `POST …/domains/:id/scim/token/` (src/http/routes/scim-token.ts). */
export type ScimToken = Wire<scimToken.ScimTokenIssued>;

/** `…/access_reviews/` (src/http/routes/access-reviews.ts). */
export type AccessReview = Wire<accessReviews.Review>;
export type AccessReviewItem = Wire<accessReviews.Item>;
/** `…/access_requests/` (src/http/routes/access-requests.ts). */
export type AccessRequest = Wire<accessRequests.AccessRequest>;
