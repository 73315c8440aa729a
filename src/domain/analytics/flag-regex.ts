import { RE2 } from 're2-wasm';

/**
 * Flag regexes (`regex`, `not_regex`) run on RE2 (Google's linear-time engine, as WebAssembly):
 * anyone holding a project token chooses the input, so matching must take time linear in it
 * whatever the pattern. Patterns are written in JavaScript syntax; RE2 refuses what it cannot do in
 * linear time (backreferences, lookaround), and such a pattern is refused when the flag is saved.
 */

const MAX_CACHED = 1000;
const cache = new Map<string, RE2 | null>();

/** The compiled pattern, or the reason RE2 refuses it. */
export function compileFlagRegex(pattern: string): { regex: RE2 } | { error: string } {
  try {
    return { regex: new RE2(pattern, 'u') };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { error: message.replace(/^Invalid regular expression: \/.*\/u: /s, '') };
  }
}

/** WebAssembly memory is not collected: release an engine's pattern explicitly. */
function release(regex: RE2 | null): void {
  (regex as unknown as { wrapper?: { delete?: () => void } } | null)?.wrapper?.delete?.();
}

/** Does `value` match `pattern`? null when the pattern does not compile. Compiled patterns are kept. */
export function flagRegexMatches(pattern: string, value: string): boolean | null {
  let regex = cache.get(pattern);
  if (regex === undefined) {
    const compiled = compileFlagRegex(pattern);
    regex = 'regex' in compiled ? compiled.regex : null;
    if (cache.size >= MAX_CACHED) {
      for (const old of cache.values()) release(old);
      cache.clear();
    }
    cache.set(pattern, regex);
  }
  return regex === null ? null : regex.test(value);
}
