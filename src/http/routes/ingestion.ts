import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** Event ingestion with a project token: /capture/, /batch/, /i/v0/e/ (gzip accepted). */
export function ingestionRoutes(_app: FastifyInstance, _deps: Deps): void {}
