import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scoped } from '../../access/route-access.js';
import {
  countItems,
  decideItem,
  listItems,
  listReviews,
  requireAdminLevel,
  reviewForViewer,
  startReview,
  type ReviewRecord,
} from '../../domain/access-reviews/access-reviews.js';
import { closeReview } from '../../domain/access-reviews/review-close.js';
import { validation } from '../../domain/errors.js';
import type { Queryable } from '../../store/database.js';
import { actorOf, type Deps } from '../deps.js';
import {
  CloseInput,
  CloseResult,
  DecisionInput,
  ExportQuery,
  Item,
  ItemList,
  ItemParams,
  Review,
  ReviewExport,
  ReviewInput,
  ReviewList,
  ReviewParams,
} from '../schemas/access-reviews.js';
import { OrgParams } from '../schemas/common.js';
import { evidenceCsv, itemView, peopleOf, reviewView } from '../serializers/access-reviews.js';
import { routeOrganization } from './organizations.js';

/**
 * Access reviews (docs/access-reviews.md): admins start and close them; the assigned reviewers (and
 * admins) read them and decide items. Keys need `organization_member:read` to read and
 * `organization_member:write` to change.
 */
export function accessReviewRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/api/organizations/:organization_id/access_reviews/';

  const viewerOf = (request: FastifyRequest) => {
    const { record, membership } = routeOrganization(request);
    return { organizationId: record.id, viewer: { userId: actorOf(request).userId, level: membership.level } };
  };
  const show = async (q: Queryable, review: ReviewRecord, viewer: { userId: number; level: number }) =>
    reviewView(review, await countItems(q, review.id), await peopleOf(q, [review]), viewer);

  api.get(
    base,
    { config: { access: scoped('organization_member', 'read') }, schema: { params: OrgParams, response: { 200: ReviewList } } },
    async (request) => {
      const { organizationId, viewer } = viewerOf(request);
      const reviews = await listReviews(db, organizationId, viewer);
      const people = await peopleOf(db, reviews);
      const results = [];
      for (const review of reviews) results.push(reviewView(review, await countItems(db, review.id), people, viewer));
      return { count: results.length, results };
    },
  );

  api.post(
    base,
    { config: { access: scoped('organization_member', 'write') }, schema: { params: OrgParams, body: ReviewInput, response: { 201: Review } } },
    async (request, reply) => {
      const { organizationId, viewer } = viewerOf(request);
      requireAdminLevel(viewer.level);
      const view = await db.transaction(async (tx) => {
        const { review } = await startReview(tx, actorOf(request), organizationId, request.body);
        return show(tx, review, viewer);
      });
      return reply.code(201).send(view);
    },
  );

  api.get(
    `${base}:review_id/`,
    { config: { access: scoped('organization_member', 'read') }, schema: { params: ReviewParams, response: { 200: Review } } },
    async (request) => {
      const { organizationId, viewer } = viewerOf(request);
      return show(db, await reviewForViewer(db, organizationId, request.params.review_id, viewer), viewer);
    },
  );

  api.get(
    `${base}:review_id/items/`,
    { config: { access: scoped('organization_member', 'read') }, schema: { params: ReviewParams, response: { 200: ItemList } } },
    async (request) => {
      const { organizationId, viewer } = viewerOf(request);
      const review = await reviewForViewer(db, organizationId, request.params.review_id, viewer);
      const items = await listItems(db, review.id);
      return { count: items.length, results: items.map(itemView) };
    },
  );

  api.patch(
    `${base}:review_id/items/:item_id/`,
    {
      config: { access: scoped('organization_member', 'write') },
      schema: { params: ItemParams, body: DecisionInput, response: { 200: Item } },
    },
    async (request) => {
      const { organizationId } = viewerOf(request);
      const { review_id, item_id } = request.params;
      return itemView(await db.transaction((tx) => decideItem(tx, actorOf(request), organizationId, review_id, item_id, request.body)));
    },
  );

  api.post(
    `${base}:review_id/close/`,
    {
      config: { access: scoped('organization_member', 'write') },
      schema: { params: ReviewParams, body: CloseInput, response: { 200: CloseResult } },
    },
    async (request) => {
      const { organizationId, viewer } = viewerOf(request);
      requireAdminLevel(viewer.level);
      const result = await closeReview(db, actorOf(request), organizationId, request.params.review_id, request.body ?? {});
      return { review: await show(db, result.review, viewer), revoked: result.revoked, already_gone: result.alreadyGone };
    },
  );

  api.get(
    `${base}:review_id/export/`,
    {
      config: { access: scoped('organization_member', 'read') },
      schema: { params: ReviewParams, querystring: ExportQuery, response: { 200: ReviewExport } },
    },
    async (request, reply) => {
      const { organizationId, viewer } = viewerOf(request);
      const format = request.query.format ?? 'json';
      if (format !== 'json' && format !== 'csv') throw validation(`"${format}" is not a valid choice.`, 'format', 'invalid_choice');
      const review = await reviewForViewer(db, organizationId, request.params.review_id, viewer);
      const view = await show(db, review, viewer);
      const items = (await listItems(db, review.id)).map(itemView);
      const body = format === 'csv' ? evidenceCsv(view, items) : JSON.stringify({ review: view, items, exported_at: new Date().toISOString() }, null, 2);
      return reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="access-review-${review.id}.${format}"`)
        .header('cache-control', 'no-store')
        .send(Buffer.from(body));
    },
  );
}
