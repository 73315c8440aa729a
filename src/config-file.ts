import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * An optional configuration file (`--config FILE` / WARDEN_CONFIG): YAML or JSON, keys are the
 * flags' names (`port: 8000`, `database-url: postgres://...`, `dns-servers: [10.0.0.2]`). Flags
 * and environment variables override it. An unknown key or a value that is not a scalar (or a list
 * of scalars) stops the start with a message naming the file and the key.
 */
export function readConfigFile(path: string, knownFlags: ReadonlySet<string>, fail: (message: string) => Error): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw fail(`cannot read the configuration file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw fail(`${path} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) throw fail(`${path} must be a mapping of settings (key: value).`);
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(document as Record<string, unknown>)) {
    if (!knownFlags.has(key)) throw fail(`${path}: unknown setting "${key}".`);
    if (Array.isArray(value) && value.every(isScalar)) values[key] = value.map(String).join(',');
    else if (isScalar(value)) values[key] = String(value);
    else throw fail(`${path}: "${key}" must be a single value or a list of values.`);
  }
  return values;
}

const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
