import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { recordActivity, diffFields } from '../../domain/activity/activity.js';
import { notFound, permissionDenied, validation } from '../../domain/errors.js';
import { findMembership, listOrganizationsOfUser } from '../../domain/organizations/organizations.js';
import { assertAcceptablePassword, hashPassword, verifyPassword } from '../../domain/identity/passwords.js';
import { findProjectAccess, NO_PROJECT_ACCESS } from '../../domain/organizations/projects.js';
import type { UserRecord } from '../../domain/records.js';
import { deleteOtherSessions } from '../../domain/identity/sessions.js';
import { findUserById, isUuid } from '../../domain/identity/users.js';
import type { Queryable } from '../../store/database.js';
import { qb, row } from '../../store/query-builder.js';
import { actorOf, currentUser, reachesOrganization, type Deps } from '../deps.js';
import { SESSION_COOKIE } from '../principal.js';
import * as show from '../serializers.js';
import { User, UserParams, UserPatch } from '../schemas/users.js';

/** The account as the request's credentials may see it: a key sees only the organizations it reaches. */
async function userDetail(q: Queryable, user: UserRecord, reaches: (organizationId: string) => boolean): Promise<User> {
  const organizations = (await listOrganizationsOfUser(q, user.id)).filter((o) => reaches(o.id));
  const current = organizations.find((o) => o.id === user.current_organization_id) ?? organizations[0] ?? null;
  const access = user.current_project_id ? await findProjectAccess(q, user.current_project_id, user.id) : undefined;
  const team = access && reaches(access.project.organization_id) ? access : undefined;
  return {
    ...show.userBasic(user),
    date_joined: user.date_joined,
    last_login: user.last_login,
    is_staff: user.is_staff,
    is_active: user.is_active,
    pending_email: null,
    organization: current ? { id: current.id, name: current.name, slug: current.slug, membership_level: current.level } : null,
    team: team && team.effectiveLevel !== null ? show.projectBasic({ ...team.project, effective_level: team.effectiveLevel }) : null,
    organizations: organizations.map((o) => ({ id: o.id, name: o.name, slug: o.slug, membership_level: o.level })),
  };
}

function assertSelf(user: UserRecord, id: string): void {
  if (id !== '@me' && id !== user.uuid) throw notFound();
}

export function userRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/api/users/:user_id/',
    { config: { access: scoped('user', 'read'), secondFactorSetup: true }, schema: { params: UserParams, response: { 200: User } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      return userDetail(db, user, (id) => reachesOrganization(request, id));
    },
  );

  api.patch(
    '/api/users/:user_id/',
    { config: { access: scoped('user', 'write') }, schema: { params: UserParams, body: UserPatch, response: { 200: User } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      const body = request.body;
      let passwordHash: string | undefined;
      if (body.password !== undefined) {
        if (!(await verifyPassword(user.password_hash, body.current_password ?? ''))) {
          throw validation('Your current password is incorrect.', 'current_password', 'incorrect_password');
        }
        assertAcceptablePassword(body.password);
        passwordHash = await hashPassword(body.password);
      }
      await db.transaction(async (tx) => {
        const before = (await row(tx, qb.selectFrom('users').selectAll().where('id', '=', user.id).forUpdate()))!;
        const next = { ...before };
        if (body.first_name !== undefined) next.first_name = body.first_name.trim();
        if (body.last_name !== undefined) next.last_name = body.last_name.trim();
        if (body.set_current_organization !== undefined) {
          const orgId = body.set_current_organization;
          if (!isUuid(orgId) || !(await findMembership(tx, orgId, user.id))) {
            throw permissionDenied('You are not a member of this organization.');
          }
          next.current_organization_id = body.set_current_organization;
        }
        if (body.set_current_team !== undefined) {
          const access = await findProjectAccess(tx, body.set_current_team, user.id);
          if (!access || access.effectiveLevel === null) throw permissionDenied(NO_PROJECT_ACCESS);
          next.current_project_id = access.project.id;
          next.current_organization_id = access.project.organization_id;
        }
        await tx.query(
          `UPDATE users SET first_name = $2, last_name = $3, current_organization_id = $4, current_project_id = $5,
             password_hash = COALESCE($6, password_hash) WHERE id = $1`,
          [user.id, next.first_name, next.last_name, next.current_organization_id, next.current_project_id, passwordHash ?? null],
        );
        const changes = diffFields(before, next, ['first_name', 'last_name'], 'User');
        if (passwordHash) {
          changes.push({ type: 'User', action: 'changed', field: 'password' });
          const token = request.ctx.sessionCsrfToken !== null ? (request.cookies[SESSION_COOKIE] ?? null) : null;
          await deleteOtherSessions(tx, user.id, token);
        }
        if (changes.length > 0 && next.current_organization_id) {
          await recordActivity(tx, {
            organizationId: next.current_organization_id,
            actor: actorOf(request),
            scope: 'User',
            activity: 'updated',
            itemId: user.id,
            detail: { name: user.email, changes },
          });
        }
      });
      return userDetail(db, (await findUserById(db, user.id))!, (id) => reachesOrganization(request, id));
    },
  );
}
