/** `--name value`, `--name=value` and bare `--flag` (true). Positional words are returned apart. */
export function parseArgs(argv: readonly string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) {
      flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
      flags[arg.slice(2)] = argv[++i]!;
    } else {
      flags[arg.slice(2)] = 'true';
    }
  }
  return { positional, flags };
}
