import type { Case } from '../model.js';
import type { World } from '../world.js';
import { accessMatrixCases } from './access-matrix.js';
import { accessReviewCases } from './access-reviews.js';
import { activityCases } from './activity.js';
import { accessRequestCases } from './access-requests.js';
import { approvalCases } from './approvals.js';
import { ceilingCases } from './ceiling.js';
import { consoleCases } from './console.js';
import { coreCases } from './core.js';
import { flagCases } from './flags.js';
import { keyNetworkCases } from './key-networks.js';
import { resourceCases } from './resources.js';
import { roleCases } from './roles.js';
import { schemaCases } from './schema.js';
import { oidcCases } from './oidc.js';
import { parityCases } from './parity.js';
import { samlCases } from './saml.js';
import { scimCases } from './scim.js';
import { ssoCases } from './sso.js';
import { signInSecurityCases } from './sign-in-security.js';
import { timeBoundCases } from './time-bound.js';

/** Every case of the matrix; one module per area. */
export function allCases(w: World): Case[] {
  return [
    ...coreCases(w),
    ...ceilingCases(w),
    ...keyNetworkCases(w),
    ...schemaCases(w),
    ...flagCases(w),
    ...resourceCases(w),
    ...roleCases(w),
    ...approvalCases(w),
    ...accessRequestCases(w),
    ...activityCases(w),
    ...ssoCases(w),
    ...samlCases(w),
    ...oidcCases(w),
    ...scimCases(w),
    ...accessMatrixCases(w),
    ...consoleCases(w),
    ...signInSecurityCases(w),
    ...parityCases(w),
    ...timeBoundCases(w),
    ...accessReviewCases(w),
    // Logging out ends the caller's session, so it runs last.
    { route: 'POST /api/logout/', access: 'public', who: 'anyone', ok: 204, request: async () => ({ method: 'POST', path: '/api/logout/' }) },
  ];
}
