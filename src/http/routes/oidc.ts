import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** Placeholder: routes are being written. */
export function oidcRoutes(_app: FastifyInstance, _deps: Deps): void {}
