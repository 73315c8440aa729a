import * as client from 'openid-client';
import type { SsoIdentity } from '../domain/sso/sso-login.js';

type Claims = Record<string, unknown>;

export interface ReadClaims {
  identity: Omit<SsoIdentity, 'domain' | 'provider'>;
  /** A reason to refuse the login (403), when the claims allow none. */
  problem?: { reason: string; detail: string };
}

/** Longest subject sso_identities stores. */
const MAX_SUBJECT = 400;
const MAX_GROUPS = 1000;
const MAX_GROUP_NAME = 400;
/** NUL and lone surrogates: text Postgres cannot store. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const text = (value: unknown): string | undefined => (typeof value === 'string' && !UNSTORABLE.test(value) ? value : undefined);
const name = (value: unknown): string | undefined => text(value)?.trim().slice(0, 150);

/** The group claim as a list of names: an array of strings, or one string; null when absent, [] when sent empty or null. */
function groupsOf(value: unknown): string[] | null {
  if (value === undefined) return null;
  if (value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list
    .slice(0, MAX_GROUPS)
    .map(text)
    .filter((g): g is string => g !== undefined && g.length > 0 && g.length <= MAX_GROUP_NAME);
}

/** email_verified as providers send it: a boolean, sometimes the string "false". */
const unverified = (value: unknown) => value === false || value === 'false';

/**
 * The identity in a validated ID token. Claims the ID token lacks (providers often keep email and
 * groups for the userinfo endpoint) are read from userinfo, whose subject must match the token's.
 * email and email_verified are taken together from one source.
 */
export async function readOidcClaims(
  config: client.Configuration,
  accessToken: string | undefined,
  idToken: Claims & { sub: string },
  groupAttribute: string,
): Promise<ReadClaims> {
  let userinfo: Claims = {};
  const needsUserinfo = typeof idToken.email !== 'string' || idToken[groupAttribute] === undefined;
  if (needsUserinfo && accessToken && config.serverMetadata().userinfo_endpoint) {
    userinfo = await client.fetchUserInfo(config, accessToken, idToken.sub);
  }
  const pick = (claim: string) => (idToken[claim] !== undefined ? idToken[claim] : userinfo[claim]);
  const emailSource = typeof idToken.email === 'string' ? idToken : userinfo;
  const subject = text(idToken.sub) ?? '';
  const email = text(emailSource.email)?.trim() ?? '';
  const firstName = name(pick('given_name'));
  const lastName = name(pick('family_name'));
  const identity: ReadClaims['identity'] = {
    subject,
    email,
    groups: groupsOf(pick(groupAttribute)),
    ...(firstName !== undefined ? { firstName } : {}),
    ...(lastName !== undefined ? { lastName } : {}),
  };
  if (!subject || subject.length > MAX_SUBJECT) {
    return { identity, problem: { reason: 'invalid_subject', detail: 'The identity provider sent an unusable subject.' } };
  }
  if (!email || email.length > 254) {
    return { identity, problem: { reason: 'missing_email', detail: 'The identity provider did not send a usable email address.' } };
  }
  if (unverified(emailSource.email_verified)) {
    return { identity, problem: { reason: 'email_not_verified', detail: 'The identity provider has not verified your email address.' } };
  }
  return { identity };
}
