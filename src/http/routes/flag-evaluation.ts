import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** PostHog's flag evaluation routes for SDKs: local evaluation (personal API key) and remote (/flags, /decide). */
export function flagEvaluationRoutes(_app: FastifyInstance, _deps: Deps): void {}
