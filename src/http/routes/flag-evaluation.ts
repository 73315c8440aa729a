import { createHash, randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { projectToken, type RouteAccess } from '../../access/route-access.js';
import { notFound, validation } from '../../domain/errors.js';
import { findProjectByToken, flagsForEvaluation, type EvaluationFlagRecord } from '../../domain/analytics/feature-flags.js';
import { evaluateFlag, flagValue, type FlagEvaluation } from '../../domain/analytics/flag-evaluation.js';
import { visibleTo } from '../../domain/access-control/resource-access.js';
import type { Deps } from '../deps.js';
import { errorBody, HttpError } from '../errors.js';
import { presentedProjectToken } from '../guard.js';
import { readSdkBodies } from '../sdk-body.js';
import { resourceActor } from '../resource-actor.js';
import { NoContent } from '../schemas/common.js';
import { FlagDefinitions, FlagEvaluationQuery, FlagsResponse } from '../schemas/flag-evaluation.js';
import { JSON_TYPE, jsonFor, jsonFragmentFor, preserialized } from '../serialized.js';
import * as show from '../serializers/feature-flags.js';

/**
 * ETags of recent bodies: SDKs poll an unchanged project's definitions, and the body is then the same
 * string (src/http/serialized.ts), whose hash V8 keeps: the lookup costs no hashing of the body.
 * The map keeps the bodies alive, so it is bounded by their size as well as their number: every
 * write to a project of 10,000 flags makes a new body of megabytes.
 */
const etags = new Map<string, string>();
const ETAG_BODIES_MAX = 1_000;
const ETAG_BODIES_MAX_CHARS = 16 * 1024 * 1024;
let etagChars = 0;
function etagOf(body: string): string {
  let etag = etags.get(body);
  if (etag === undefined) {
    if (etags.size >= ETAG_BODIES_MAX || etagChars + body.length > ETAG_BODIES_MAX_CHARS) {
      etags.clear();
      etagChars = 0;
    }
    etag = `"${createHash('sha1').update(body).digest('hex')}"`;
    etags.set(body, etag);
    etagChars += body.length;
  }
  return etag;
}

/** Local evaluation: a personal API key with feature_flag:read, the project named by `?token=`. */
const localEvaluation: RouteAccess = { kind: 'scoped', scope: 'feature_flag', action: 'read', project: 'token' };

// The flags service's messages (PostHog/posthog rust/feature-flags, FlagError). The same answer
// for a token of no project as for a malformed one: nothing tells whether a project exists.
const NO_TOKEN = 'No API token provided. Please include a valid API token in your request.';
const BAD_TOKEN = 'The provided API key is invalid or has expired. Please check your API key and try again.';
const MAX_DISTINCT_ID = 400;

const noData = () => validation('No data found. Make sure to use a POST request when sending the payload in the body of the request.', null, 'no_data');
const unauthorized = (code: string, detail: string) => new HttpError(401, errorBody('authentication_error', code, detail));

async function tokenProject(db: Deps['db'], request: FastifyRequest): Promise<{ id: number; organization_id: string }> {
  const token = presentedProjectToken(request);
  if (token === undefined) {
    const offered = [request.query, request.body].some((s) => isRecord(s) && (s.token !== undefined || s.api_key !== undefined));
    throw offered ? unauthorized('invalid_api_key', BAD_TOKEN) : unauthorized('missing_api_key', NO_TOKEN);
  }
  const project = await findProjectByToken(db, token);
  if (!project) throw unauthorized('invalid_api_key', BAD_TOKEN);
  return project;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object';

interface EvaluationRequest {
  distinctId: string;
  personProperties: Record<string, unknown>;
  onlyKeys: ReadonlySet<string> | null;
}

/** The body posthog-node (and posthog-js) send to /flags and /decide. */
function evaluationRequest(body: unknown): EvaluationRequest {
  const b = (body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const raw = b.distinct_id;
  if (raw === undefined || raw === null) {
    throw validation('The distinct_id field is missing from the request. Please include a valid identifier.', 'distinct_id', 'required');
  }
  if (typeof raw !== 'string' && !(typeof raw === 'number' && Number.isFinite(raw))) throw validation('Not a valid string.', 'distinct_id');
  const distinctId = String(raw);
  if (distinctId.trim() === '') throw validation('The distinct_id field cannot be empty. Please provide a valid identifier.', 'distinct_id', 'blank');
  if (distinctId.length > MAX_DISTINCT_ID) {
    throw validation(`Ensure this field has no more than ${MAX_DISTINCT_ID} characters.`, 'distinct_id', 'max_length');
  }
  const props = b.person_properties;
  if (props !== undefined && props !== null && (typeof props !== 'object' || Array.isArray(props))) {
    throw validation('Invalid data. Expected a dictionary.', 'person_properties');
  }
  const keys = b.flag_keys_to_evaluate;
  if (keys !== undefined && keys !== null && (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string'))) {
    throw validation('Expected a list of items.', 'flag_keys_to_evaluate');
  }
  return {
    distinctId,
    personProperties: (props as Record<string, unknown> | null | undefined) ?? {},
    onlyKeys: Array.isArray(keys) ? new Set(keys as string[]) : null,
  };
}

interface Evaluated {
  flag: EvaluationFlagRecord;
  evaluation: FlagEvaluation;
}

async function evaluate(db: Deps['db'], request: FastifyRequest): Promise<Evaluated[]> {
  const project = await tokenProject(db, request);
  const input = evaluationRequest(request.body);
  const flags = await flagsForEvaluation(db, project.id);
  return flags
    .filter((f) => input.onlyKeys === null || input.onlyKeys.has(f.key))
    .map((flag) => ({ flag, evaluation: evaluateFlag(flag, input.distinctId, input.personProperties) }));
}

/**
 * `"key":{details}` of one evaluated flag, as JSON text. What a flag's details can be is fixed by
 * the flag (its id, key and payloads) and the outcome (enabled, variant, reason, condition), so the
 * text is built once per outcome of each cached flag, not once per request.
 */
function flagDetailsEntry({ flag, evaluation: e }: Evaluated): string {
  // The reason's code says whether the flag is enabled; its condition and the variant say the rest.
  return jsonFragmentFor(
    flag,
    e.reason.code,
    e.reason.condition_index,
    e.variant,
    () => `${JSON.stringify(e.key)}:${JSON.stringify(show.flagDetails(e, flag.id))}`,
  );
}

/** `v` from the query string as a number (absent or unreadable: 0). */
function apiVersion(query: { v?: unknown }): number {
  const v = query.v;
  const n = typeof v === 'string' ? Number.parseInt(v, 10) : NaN;
  return Number.isFinite(n) ? n : 0;
}

/** The remote-config part of a /decide answer: Warden serves flags only, so everything else is off. */
const CONFIG = {
  config: { enable_collect_everything: true },
  toolbarParams: {},
  isAuthenticated: false,
  supportedCompression: [] as string[],
  sessionRecording: false,
  surveys: false,
  heatmaps: false,
  capturePerformance: false,
  autocapture_opt_out: true,
  autocaptureExceptions: false,
  siteApps: [] as unknown[],
};

/** CONFIG's fields as JSON text, for the front of a body written by hand. */
const CONFIG_FIELDS = `${JSON.stringify(CONFIG).slice(1, -1)},`;

function legacyMaps(evaluations: ReadonlyArray<{ evaluation: FlagEvaluation }>, onlyEnabled: boolean) {
  // No prototype: a flag may be called `__proto__`.
  const featureFlags: Record<string, string | boolean> = Object.create(null);
  const featureFlagPayloads: Record<string, string> = Object.create(null);
  for (const { evaluation: e } of evaluations) {
    if (onlyEnabled && !e.enabled) continue;
    featureFlags[e.key] = flagValue(e);
    if (e.payload !== null) featureFlagPayloads[e.key] = e.payload;
  }
  return { featureFlags, featureFlagPayloads };
}

/** PostHog's flag evaluation routes for SDKs: local evaluation (personal API key) and remote (/flags, /decide). */
export function flagEvaluationRoutes(app: FastifyInstance, { db, config: settings }: Deps): void {
  // Flag definitions for SDKs that evaluate locally. posthog-node 5.x polls /flags/definitions;
  // older SDKs (and PostHog's Django API) use /api/feature_flag/local_evaluation/. Same answer.
  const definitions = async (request: FastifyRequest, reply: FastifyReply) => {
    const projectId = request.ctx.project?.project.id;
    if (projectId === undefined) throw notFound('Project not found.');
    const [actor, all] = await Promise.all([resourceActor(db, request), flagsForEvaluation(db, projectId)]);
    const flags = await visibleTo(actor, 'feature_flag', all);
    // Most callers see every flag: their answer is the project's, built once per version of its flags.
    const body = jsonFor(flags.length === all.length ? all : flags, null, () => ({
      flags: flags.map(show.localEvaluationFlag),
      group_type_mapping: {},
      cohorts: {},
    }));
    const etag = etagOf(body);
    reply.header('etag', etag);
    const presented = request.headers['if-none-match'];
    if (typeof presented === 'string' && presented.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
      return reply.code(304).send();
    }
    return reply.type(JSON_TYPE).send(body);
  };
  // The body is the cached JSON text (sent as it is); the schema documents it. 304 when the ETag matches.
  const definitionsSchema = { response: { 200: FlagDefinitions, 304: NoContent } };
  app.get('/api/feature_flag/local_evaluation/', { config: { access: localEvaluation }, schema: definitionsSchema }, definitions);
  app.get('/flags/definitions', { config: { access: localEvaluation }, schema: definitionsSchema }, definitions);

  // Remote evaluation takes whatever body the SDKs send (posthog-js: form-encoded base64, or gzip as
  // text/plain), in a plugin scope of its own so the rest of the API keeps taking JSON only.
  void app.register(async (scope) => {
    readSdkBodies(scope, settings.bodyLimit, noData);
    const api = scope.withTypeProvider<TypeBoxTypeProvider>();
    const schema = { querystring: FlagEvaluationQuery, response: { 200: FlagsResponse } };
    // Remote evaluation with the project token. /flags answers `?v=2` (what posthog-node sends) with
    // flag details, and anything older with the legacy maps, as the flags service does.
    api.post('/flags/', { config: { access: projectToken }, schema }, async (request, reply) => {
      const evaluations = await evaluate(db, request);
      const requestId = randomUUID();
      const evaluatedAt = Date.now();
      const withConfig = request.query.config === 'true';
      if (apiVersion(request.query) >= 2) {
        // The SDKs' hot route: the flags' texts are cached (flagDetailsEntry), the rest is written here.
        const flags = evaluations.map(flagDetailsEntry).join(',');
        const body = `{${withConfig ? CONFIG_FIELDS : ''}"flags":{${flags}},"errorsWhileComputingFlags":false,"requestId":"${requestId}","evaluatedAt":${evaluatedAt}}`;
        return reply.type(JSON_TYPE).send(preserialized<FlagsResponse>(body));
      }
      return { ...(withConfig ? CONFIG : {}), ...legacyMaps(evaluations, false), errorsWhileComputingFlags: false, requestId, evaluatedAt };
    });

    // PostHog's older /decide: v1 lists the enabled keys, v2 maps the enabled flags to their values,
    // v3 and later (and no `v`) map every flag, with payloads.
    api.post('/decide/', { config: { access: projectToken }, schema }, async (request) => {
      const evaluations = await evaluate(db, request);
      const version = apiVersion(request.query);
      const meta = { errorsWhileComputingFlags: false, requestId: randomUUID() };
      if (version === 1) return { ...CONFIG, featureFlags: evaluations.filter((e) => e.evaluation.enabled).map((e) => e.evaluation.key), ...meta };
      return { ...CONFIG, ...legacyMaps(evaluations, version === 2), ...meta };
    });
  });
}
