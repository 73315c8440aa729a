import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** Access controls at project, resource and object level. */
export function accessControlRoutes(_app: FastifyInstance, _deps: Deps): void {}
