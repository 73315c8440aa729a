import type { Database, Queryable } from '../../store/database.js';
import { userActor } from '../actor.js';
import { createApiKey } from '../organizations/api-keys.js';
import { permissionDenied, validation } from '../errors.js';
import { acceptInvite, assertInviteUsable, findInvite } from '../organizations/invites.js';
import { createOrganization } from '../organizations/organizations.js';
import { assertAcceptablePassword, hashPassword } from './passwords.js';
import type { OrganizationRecord, ProjectRecord, UserRecord } from '../records.js';
import { assertPasswordAuthAllowed } from '../sso/sso-domains.js';
import { countUsers, insertUser, normalizeEmail } from './users.js';

export const SIGNUP_CLOSED = 'New sign-ups are closed on this instance. Ask an organization admin for an invite.';
export const INSTANCE_ALREADY_SET_UP = 'This Warden instance already has users; bootstrap only sets up a new instance.';

/** A serialising lock so two first sign-ups cannot both become the instance's first user. */
const FIRST_USER_LOCK = 7_240_114;

export interface SignupInput {
  email: string;
  password: string;
  first_name: string;
  last_name?: string;
  organization_name?: string;
}

export interface SignupResult {
  user: UserRecord;
  organization: OrganizationRecord;
  project: ProjectRecord;
}

function requireFirstName(firstName: string): string {
  const trimmed = firstName.trim();
  if (!trimmed) throw validation('This field may not be blank.', 'first_name', 'blank');
  if (trimmed.length > 150) throw validation('Ensure this field has no more than 150 characters.', 'first_name', 'max_length');
  return trimmed;
}

async function createAccountWithOrganization(tx: Queryable, input: SignupInput, passwordHash: string): Promise<SignupResult> {
  const firstName = requireFirstName(input.first_name);
  const user = await insertUser(tx, {
    email: normalizeEmail(input.email),
    firstName,
    lastName: input.last_name ?? '',
    passwordHash,
  });
  const { organization, project } = await createOrganization(tx, userActor(user.id), user, input.organization_name?.trim() || `${firstName}'s organization`);
  return { user: { ...user, current_organization_id: organization.id, current_project_id: project.id }, organization, project };
}

/**
 * `POST /api/signup/`: the instance's first user creates its first organization. Later sign-ups
 * need an invite, unless the instance is configured open.
 */
export async function signUp(db: Database, input: SignupInput, openSignup: boolean): Promise<SignupResult> {
  const passwordHash = await validatedPasswordHash(input);
  await assertPasswordAuthAllowed(db, input.email);
  return asFirstUserCheck(db, async (tx, existingUsers) => {
    if (existingUsers > 0 && !openSignup) throw permissionDenied(SIGNUP_CLOSED);
    return createAccountWithOrganization(tx, input, passwordHash);
  });
}

/** Checks what a new account needs before any write, and hashes its password. */
async function validatedPasswordHash(input: SignupInput): Promise<string> {
  normalizeEmail(input.email);
  requireFirstName(input.first_name);
  assertAcceptablePassword(input.password);
  return hashPassword(input.password);
}

/** Runs fn in a transaction that holds the first-user lock, telling it how many users exist. */
function asFirstUserCheck<T>(db: Database, fn: (tx: Queryable, existingUsers: number) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [FIRST_USER_LOCK]);
    return fn(tx, await countUsers(tx));
  });
}

/** `POST /api/signup/:invite_id/` for a new person: the account takes the invite's email. */
export async function signUpWithInvite(
  db: Database,
  inviteId: string,
  input: { first_name: string; last_name?: string; password: string },
): Promise<{ user: UserRecord; organization: OrganizationRecord }> {
  const firstName = requireFirstName(input.first_name);
  assertAcceptablePassword(input.password);
  const invite = await findInvite(db, inviteId);
  assertInviteUsable(invite);
  await assertPasswordAuthAllowed(db, invite.target_email);
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (tx) => {
    const user = await insertUser(tx, { email: invite.target_email, firstName, lastName: input.last_name ?? '', passwordHash });
    const organization = await acceptInvite(tx, user, invite.id);
    return { user, organization };
  });
}

export interface BootstrapResult extends SignupResult {
  personalApiKey: string;
}

/**
 * The scripted first run: first user (owner), organization, default project and an all-scopes key
 * labelled "bootstrap". Refuses, changing nothing, when the instance already has users.
 */
export async function bootstrap(db: Database, input: SignupInput): Promise<BootstrapResult> {
  const passwordHash = await validatedPasswordHash(input);
  return asFirstUserCheck(db, async (tx, existingUsers) => {
    if (existingUsers > 0) throw validation(INSTANCE_ALREADY_SET_UP, null, 'already_bootstrapped');
    const result = await createAccountWithOrganization(tx, input, passwordHash);
    const { value } = await createApiKey(tx, userActor(result.user.id), result.user, { label: 'bootstrap', scopes: ['*'] });
    return { ...result, personalApiKey: value };
  });
}
