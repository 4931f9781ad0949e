import { parseArgs } from 'node:util';

/** A command's options, as `node:util` `parseArgs` takes them (`-h, --help` is added to every command). */
export type CommandOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** The parsed option values of a command. */
export type CommandValues = Record<string, string | boolean | undefined>;

/**
 * Parse a command's arguments: the option values, or the exit status to return at once: 0
 * after printing `help` for `-h` or `--help`, 2 after printing the parse error and `help`.
 */
export function commandArgs(argv: string[], options: CommandOptions, help: string, out: (text: string) => void): CommandValues | number {
  let values: CommandValues;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    out(`${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    out(help);
    return 0;
  }
  return values;
}
