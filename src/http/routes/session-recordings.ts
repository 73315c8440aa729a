import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** Session recording metadata under /api/projects/:project_id/session_recordings/. */
export function sessionRecordingRoutes(_app: FastifyInstance, _deps: Deps): void {}
