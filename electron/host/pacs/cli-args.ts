// Option parsing for the pacs and outbox CLI commands (kept here, with the PACS code, as
// the CLI folder has one file per command): --name value, --name=value, flags, positionals.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  positionals: string[];
  values: Map<string, string>;
  flags: Set<string>;
}

export function parseArgs(args: string[], spec: { values: string[]; flags: string[] }): ParsedArgs {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (onlyPositionals || !arg.startsWith('--')) {
      if (!onlyPositionals && arg.startsWith('-') && arg !== '-' && arg !== '-h') throw new UsageError(`unknown option ${arg}`);
      if (arg === '-h') flags.add('help');
      else positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    const equals = arg.indexOf('=');
    const name = arg.slice(2, equals < 0 ? undefined : equals);
    if (spec.flags.includes(name) || name === 'help') {
      if (equals >= 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
    } else if (spec.values.includes(name)) {
      const value = equals >= 0 ? arg.slice(equals + 1) : args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      values.set(name, value);
    } else throw new UsageError(`unknown option --${name}`);
  }
  return { positionals, values, flags };
}

export function positiveSeconds(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`--${name} takes a number of seconds (0 or more)`);
  return value;
}
