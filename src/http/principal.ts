import type { FastifyRequest } from 'fastify';
import type { Principal } from '../access/decide.js';
import { findKeyByValue, touchApiKey } from '../domain/organizations/api-keys.js';
import { authenticationFailed } from '../domain/errors.js';
import type { PersonalApiKeyRecord, UserRecord } from '../domain/records.js';
import { findSessionUser } from '../domain/identity/sessions.js';
import type { Queryable } from '../store/database.js';

export const SESSION_COOKIE = 'sessionid';
export const CSRF_COOKIE = 'posthog_csrftoken';
export const CSRF_HEADER = 'x-csrftoken';

export interface Authentication {
  principal: Principal | null;
  user: UserRecord | null;
  apiKey: PersonalApiKeyRecord | null;
  /** The CSRF token of the session, when the request is cookie-authenticated. */
  sessionCsrfToken: string | null;
  /** The session's public id (the sessions list), when cookie-authenticated. */
  sessionId: string | null;
  /** A password session of a member of a 2FA-enforcing organization without a second factor. */
  secondFactorSetupRequired: boolean;
}

export const anonymous: Authentication = {
  principal: null,
  user: null,
  apiKey: null,
  sessionCsrfToken: null,
  sessionId: null,
  secondFactorSetupRequired: false,
};

export type KeySource = 'Authorization header' | 'body' | 'query string';

/** PostHog's order: the Authorization header, then the body field, then the query parameter. */
export function presentedKey(request: FastifyRequest): { value: string; source: KeySource } | null {
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^bearer\s/i.test(header)) {
    return { value: header.slice(header.indexOf(' ') + 1).trim(), source: 'Authorization header' };
  }
  const body = request.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && typeof body.personal_api_key === 'string') {
    return { value: body.personal_api_key, source: 'body' };
  }
  const query = request.query as Record<string, unknown> | undefined;
  if (query && typeof query.personal_api_key === 'string') return { value: query.personal_api_key, source: 'query string' };
  return null;
}

export async function authenticate(q: Queryable, request: FastifyRequest): Promise<Authentication> {
  const key = presentedKey(request);
  if (key) {
    const found = await findKeyByValue(q, key.value);
    if (!found?.user.is_active) {
      throw authenticationFailed(`Personal API key found in request ${key.source} is invalid.`);
    }
    if (found.key.expires_at && new Date(found.key.expires_at).getTime() <= Date.now()) {
      throw authenticationFailed(`Personal API key found in request ${key.source} has expired.`);
    }
    await touchApiKey(q, found.key);
    return {
      principal: {
        kind: 'personal_api_key',
        userId: found.user.id,
        keyId: found.key.id,
        scopes: found.key.scopes,
        scopedTeams: found.key.scoped_teams,
        scopedOrganizations: found.key.scoped_organizations,
        createdAt: new Date(found.key.created_at),
        isServiceAccount: found.user.is_service_account,
        networks: found.networks,
        rateLimitPerMinute: found.key.rate_limit_per_minute,
      },
      user: found.user,
      apiKey: found.key,
      sessionCsrfToken: null,
      sessionId: null,
      // API keys are not affected by 2FA enforcement (PostHog's behaviour).
      secondFactorSetupRequired: false,
    };
  }
  const token = request.cookies[SESSION_COOKIE];
  if (token) {
    const session = await findSessionUser(q, token);
    if (session) {
      return {
        principal: { kind: 'user', userId: session.user.id },
        user: session.user,
        apiKey: null,
        sessionCsrfToken: session.csrfToken,
        sessionId: session.sessionId,
        secondFactorSetupRequired: session.secondFactorSetupRequired,
      };
    }
  }
  return anonymous;
}
