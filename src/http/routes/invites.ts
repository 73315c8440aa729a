import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { createInvite, deleteInvite, listInvites } from '../../domain/organizations/invites.js';
import type { UserRecord } from '../../domain/records.js';
import { findUserById } from '../../domain/identity/users.js';
import { actorOf, type Deps } from '../deps.js';
import { sendInviteEmail } from '../../mail/invite-email.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';
import { NoContent, OrgParams } from '../schemas/common.js';
import { Invite, InviteCreate, InviteList, InviteParams } from '../schemas/invites.js';
import { routeOrganization } from './organizations.js';

/** Where an invite is accepted: the console's page for it. */
export const inviteLink = (publicUrl: string, inviteId: string) => `${publicUrl}/signup/${inviteId}`;

export function inviteRoutes(app: FastifyInstance, { db, config }: Deps): void {
  const emailing = config.smtp !== undefined;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/api/organizations/:organization_id/invites/',
    { config: { access: scoped('organization_member', 'read') }, schema: { params: OrgParams, response: { 200: InviteList } } },
    async (request) => {
      const { record } = routeOrganization(request);
      const page = readPage(request);
      const invites = await listInvites(db, record.id);
      const creators = new Map<number, UserRecord | undefined>();
      const results = [];
      for (const i of invites.slice(page.offset, page.offset + page.limit)) {
        if (i.created_by_id !== null && !creators.has(i.created_by_id)) creators.set(i.created_by_id, await findUserById(db, i.created_by_id));
        results.push(show.invite(i, (i.created_by_id !== null && creators.get(i.created_by_id)) || null, emailing));
      }
      return paginated(request, page, invites.length, results);
    },
  );

  api.post(
    '/api/organizations/:organization_id/invites/',
    { config: { access: scoped('organization_member', 'write') }, schema: { params: OrgParams, body: InviteCreate, response: { 201: Invite } } },
    async (request, reply) => {
      const { record } = routeOrganization(request);
      const body = request.body;
      const invite = await db.transaction((tx) => createInvite(tx, actorOf(request), record.id, body));
      if (config.smtp) {
        // After the commit, in the background (as PostHog's worker does): a slow or failing mail
        // server costs the email, never the invite, whose link the inviter also sees.
        const inviter = request.ctx.user!;
        sendInviteEmail(config.smtp, {
          to: invite.target_email,
          link: inviteLink(config.publicUrl, invite.id),
          organizationName: record.name,
          inviterName: [inviter.first_name, inviter.last_name].filter(Boolean).join(' ') || inviter.email,
          expiresAt: invite.expires_at,
          message: invite.message,
        }).then(
          () => request.log.info({ invite_id: invite.id }, 'invite email sent'),
          (err: Error) => request.log.warn({ invite_id: invite.id, err: err.message }, 'invite email failed'),
        );
      }
      return reply.code(201).send(show.invite(invite, request.ctx.user, emailing));
    },
  );

  api.delete(
    '/api/organizations/:organization_id/invites/:invite_id/',
    { config: { access: scoped('organization_member', 'write') }, schema: { params: InviteParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { record } = routeOrganization(request);
      const { invite_id } = request.params;
      await db.transaction((tx) => deleteInvite(tx, actorOf(request), record.id, invite_id));
      return reply.code(204).send();
    },
  );
}
