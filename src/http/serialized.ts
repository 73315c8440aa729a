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

type Fragments = Map<unknown, Map<unknown, Map<unknown, string>>>;
const fragments = new WeakMap<object, Fragments>();

/**
 * The JSON text of `build()` for one of a frozen record's outcomes, named by three keys (a record
 * has few outcomes), kept while the record is the same object: /flags sends each flag as one of a
 * handful of texts, whoever asks. Nested maps, not one composed key: no string is built per lookup.
 * A record that is not frozen (read straight from the database) is not kept.
 */
export function jsonFragmentFor(record: object, a: unknown, b: unknown, c: unknown, build: () => string): string {
  let byA = fragments.get(record);
  const known = byA?.get(a)?.get(b)?.get(c);
  if (known !== undefined) return known;
  const text = build();
  if (Object.isFrozen(record)) {
    if (!byA) fragments.set(record, (byA = new Map()));
    let byB = byA.get(a);
    if (!byB) byA.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (!byC) byB.set(b, (byC = new Map()));
    byC.set(c, text);
  }
  return text;
}
