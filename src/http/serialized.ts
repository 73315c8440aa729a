/**
 * Response bodies built from facts the access cache holds, kept for as long as those facts are the
 * very same objects. The cache hands out frozen records and replaces them (a new object) when they
 * change, so a body keyed on their identity is never stale; records read straight from the database
 * are new objects every time and simply miss. Saves serializing the same JSON on every poll.
 */
export const JSON_TYPE = 'application/json; charset=utf-8';

const bodies = new WeakMap<object, WeakMap<object, string>>();
const NOTHING = Object.freeze({});

/** The JSON of `build()`, for the pair (first, second) of records it was built from. */
export function jsonFor(first: object, second: object | null, build: () => unknown): string {
  const key = second ?? NOTHING;
  let byFirst = bodies.get(first);
  const known = byFirst?.get(key);
  if (known !== undefined) return known;
  const body = JSON.stringify(build());
  if (Object.isFrozen(first) && Object.isFrozen(key)) {
    if (!byFirst) bodies.set(first, (byFirst = new WeakMap()));
    byFirst.set(key, body);
  }
  return body;
}

/**
 * JSON text sent as it is, typed as the body it holds: Fastify does not serialize a string sent with
 * a JSON content type, so a route with a response schema still sends the cached text unchanged.
 */
export const preserialized = <T>(json: string): T => json as unknown as T;

const fragments = new WeakMap<object, Map<string, string>>();

/**
 * The JSON text of `build()` for one of a frozen record's outcomes (`outcome` names which; a record
 * has few), kept while the record is the same object: /flags sends each flag as one of a handful of
 * texts, whoever asks. A record that is not frozen (read straight from the database) is not kept.
 */
export function jsonFragmentFor(record: object, outcome: string, build: () => string): string {
  let byOutcome = fragments.get(record);
  const known = byOutcome?.get(outcome);
  if (known !== undefined) return known;
  const text = build();
  if (Object.isFrozen(record)) {
    if (!byOutcome) fragments.set(record, (byOutcome = new Map()));
    byOutcome.set(outcome, text);
  }
  return text;
}
