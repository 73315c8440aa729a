import type { FastifyRequest } from 'fastify';
import { validation } from '../domain/errors.js';

/** PostHog's LimitOffsetPagination with PAGE_SIZE=100. */
export const PAGE_SIZE = 100;
const MAX_LIMIT = 1000;

export interface Page {
  limit: number;
  offset: number;
}

function nonNegativeInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) throw validation('A valid integer is required.', name);
  return Number(value);
}

export function readPage(request: FastifyRequest): Page {
  const q = request.query as Record<string, unknown>;
  const limit = Math.min(Math.max(nonNegativeInt(q.limit, 'limit', PAGE_SIZE), 1), MAX_LIMIT);
  return { limit, offset: nonNegativeInt(q.offset, 'offset', 0) };
}

function pageUrl(request: FastifyRequest, page: Page): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set('limit', String(page.limit));
  url.searchParams.set('offset', String(page.offset));
  return url.toString();
}

export function paginated<T>(request: FastifyRequest, page: Page, count: number, results: T[]) {
  const next = page.offset + page.limit < count ? pageUrl(request, { ...page, offset: page.offset + page.limit }) : null;
  const previous = page.offset > 0 ? pageUrl(request, { ...page, offset: Math.max(0, page.offset - page.limit) }) : null;
  return { count, next, previous, results };
}
