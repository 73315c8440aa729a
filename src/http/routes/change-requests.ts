import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** Approvals: change requests for guarded actions (flag deletion). */
export function changeRequestRoutes(_app: FastifyInstance, _deps: Deps): void {}
