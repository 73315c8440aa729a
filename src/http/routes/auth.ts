import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { publicRoute } from '../../access/route-access.js';
import { DomainError, permissionDenied, validation } from '../../domain/errors.js';
import { acceptInvite, assertInviteUsable, findInvite } from '../../domain/organizations/invites.js';
import { logIn } from '../../domain/identity/login.js';
import { createSession, deleteSession } from '../../domain/identity/sessions.js';
import { signUp, signUpWithInvite } from '../../domain/identity/signup.js';
import { enforcedProvider, findVerifiedDomainForEmail } from '../../domain/sso/sso-domains.js';
import { safeEqual } from '../../domain/identity/tokens.js';
import { clearSessionCookies, setSessionCookies, type Deps } from '../deps.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../principal.js';
import { LIMITS } from '../rate-limits.js';
import type { UserRecord } from '../../domain/records.js';
import { InvitePreview, InviteSignup, Login, LoginSuccess, SignedUp, Signup, SignupInviteParams } from '../schemas/auth.js';
import { NoContent } from '../schemas/common.js';
import * as show from '../serializers.js';
import { answerLogin, sessionOrigin } from './two-factor.js';

function required(value: string | undefined, attr: string): string {
  if (value === undefined) throw validation('This field is required.', attr, 'required');
  return value;
}

const signedUp = (user: UserRecord) => ({ ...show.userBasic(user), redirect_url: '/' });

export function authRoutes(app: FastifyInstance, deps: Deps): void {
  const { db, config, limiter } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.post('/api/signup/', { config: { access: publicRoute }, schema: { body: Signup, response: { 201: SignedUp } } }, async (request, reply) => {
    await limiter.consume(LIMITS.signupsPerAddress, request.ip);
    const { user } = await signUp(db, request.body, config.openSignup);
    const session = await db.transaction((tx) => createSession(tx, user.id, 'password', sessionOrigin(request)));
    setSessionCookies(reply, request, config, session);
    return reply.code(201).send(signedUp(user));
  });

  api.get(
    '/api/signup/:invite_id/',
    { config: { access: publicRoute }, schema: { params: SignupInviteParams, response: { 200: InvitePreview } } },
    async (request) => {
      const { invite_id } = request.params;
      const invite = await findInvite(db, invite_id);
      assertInviteUsable(invite);
      // Whether the invitee must sign up through SSO (their domain enforces it), so the accept page can say so first.
      const ssoEnforcement = enforcedProvider(await findVerifiedDomainForEmail(db, invite.target_email));
      return {
        id: invite.id,
        target_email: invite.target_email,
        first_name: invite.first_name,
        organization_name: invite.organization_name,
        sso_enforcement: ssoEnforcement,
      };
    },
  );

  api.post(
    '/api/signup/:invite_id/',
    { config: { access: publicRoute }, schema: { params: SignupInviteParams, body: InviteSignup, response: { 201: SignedUp } } },
    async (request, reply) => {
      const { invite_id } = request.params;
      const { body } = request;
      // Only a signed-in person accepts for an existing account; a personal API key never does.
      const signedIn = request.ctx.apiKey ? null : request.ctx.user;
      if (signedIn) {
        // An existing account accepts the invite while logged in: a session write, so it needs the CSRF token.
        const csrfSecret = request.ctx.sessionCsrfToken;
        const csrfHeader = request.headers[CSRF_HEADER];
        if (csrfSecret !== null && (typeof csrfHeader !== 'string' || !safeEqual(csrfHeader, csrfSecret))) {
          throw permissionDenied('CSRF Failed: CSRF token missing or incorrect.');
        }
        await db.transaction((tx) => acceptInvite(tx, signedIn, invite_id));
        return reply.code(201).send(signedUp(signedIn));
      }
      await limiter.consume(LIMITS.inviteAcceptancesPerAddress, request.ip);
      const { user } = await signUpWithInvite(db, invite_id, {
        first_name: body.first_name ?? '',
        password: required(body.password, 'password'),
        ...(body.last_name !== undefined ? { last_name: body.last_name } : {}),
      });
      const session = await db.transaction((tx) => createSession(tx, user.id, 'password', sessionOrigin(request)));
      setSessionCookies(reply, request, config, session);
      return reply.code(201).send(signedUp(user));
    },
  );

  api.post('/api/login/', { config: { access: publicRoute }, schema: { body: Login, response: { 200: LoginSuccess } } }, async (request, reply) => {
    const { email, password } = request.body;
    // Failures count per address and per (account, address): guessing slows down, the owner of
    // the account elsewhere is never locked out, and every window ends.
    const account = `${email.trim().toLowerCase()}|${request.ip}`;
    // Each attempt is counted before the password is verified (atomically, in the database shared
    // by every node), so concurrent guesses cannot all pass; one that did not fail is handed back.
    const outcome = await limiter.guard(
      [
        [LIMITS.loginFailuresPerAddress, request.ip],
        [LIMITS.loginFailuresPerAccount, account],
      ],
      () => logIn(db, email, password, request.log, sessionOrigin(request)),
      (err) => err instanceof DomainError && err.code === 'invalid_credentials',
    );
    return answerLogin(reply, request, deps, outcome);
  });

  api.post('/api/logout/', { config: { access: publicRoute }, schema: { response: { 204: NoContent } } }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await deleteSession(db, token);
    clearSessionCookies(reply);
    return reply.code(204).send();
  });
}
