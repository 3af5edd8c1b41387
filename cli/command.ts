/**
 * What the commands (plan, preflight, doctor) share: the flags every one takes, usage and argument errors, reading
 * the stack through the CLI's door into the program, one line for a user's mistake, the exit code, and running as a
 * program. Nothing heavy is loaded before the arguments are read: `--help` and a wrong flag answer at once.
 */
import { parseFlags, type Flags } from "./args";
import type { Stack } from "./stack/load";
import { DEFAULT_STACK, isUserError } from "./stack/errors";

export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  /** What doctor --probe requests with; default: the global fetch. */
  fetch?: typeof fetch;
  /** Imports the program; default: index.ts (tests import it through their own module loader). */
  loadProgram?: () => Promise<Record<string, unknown>>;
}

/** A flag of one command, for its parser and its usage text. */
export interface FlagSpec {
  name: string;
  /** The value's placeholder (`SECONDS`); absent: a switch. */
  value?: string;
  help: string;
}

/** The flags every command takes. */
const COMMON_FLAGS: FlagSpec[] = [
  {
    name: "stack",
    value: "NAME",
    help: `the stack whose config to read: Pulumi.<NAME>.yaml (default: ${DEFAULT_STACK})`,
  },
  { name: "stack-file", value: "FILE", help: "read this stack file instead" },
  { name: "json", help: "one JSON document on stdout, for scripts" },
  { name: "help", help: "this text" },
];

export interface CommonOptions {
  stack: string;
  stackFile: string | undefined;
  json: boolean;
}

export interface CommandDefinition<Options> {
  name: "plan" | "preflight" | "doctor" | "adopt";
  /** What it is for, for --help. */
  purpose: string;
  /** Its own flags, besides the common ones. */
  flags: FlagSpec[];
  /** Lines after the flags in --help. */
  notes: string[];
  /** Its own options from the flags, or what is wrong with them. */
  options(flags: Flags<string, string>): Options | string;
  run(
    options: Options & CommonOptions,
    context: { env: Record<string, string | undefined>; io: Io; loadStack: (kubeconfigEnv?: string) => Promise<Stack> },
  ): Promise<number>;
}

export function usage(command: CommandDefinition<unknown>): string {
  const flags = [...COMMON_FLAGS.slice(0, 2), ...command.flags, ...COMMON_FLAGS.slice(2)];
  const synopsis = flags
    .filter((f) => f.name !== "help")
    .map((f) => `[--${f.name}${f.value ? ` ${f.value}` : ""}]`)
    .join(" ");
  const width = Math.max(...flags.map((f) => `--${f.name}${f.value ? ` ${f.value}` : ""}`.length));
  return [
    `usage: npm run -s ${command.name} -- ${synopsis}`,
    "",
    command.purpose,
    "",
    ...flags.map((f) => `  ${`--${f.name}${f.value ? ` ${f.value}` : ""}`.padEnd(width)}  ${f.help}`),
    ...(command.notes.length > 0 ? ["", ...command.notes] : []),
  ].join("\n");
}

/** The options, or what is wrong with the arguments. */
export function parseArgs<Options>(
  command: CommandDefinition<Options>,
  argv: readonly string[],
): (Options & CommonOptions & { help: boolean }) | string {
  const all = [...COMMON_FLAGS, ...command.flags];
  const flags = parseFlags(argv, {
    switches: all.filter((f) => !f.value).map((f) => f.name),
    values: all.filter((f) => f.value).map((f) => f.name),
  });
  if (typeof flags === "string") return flags;
  const own = command.options(flags);
  if (typeof own === "string") return own;
  return {
    ...own,
    stack: flags.values.stack ?? DEFAULT_STACK,
    stackFile: flags.values["stack-file"],
    json: flags.switches.has("json"),
    help: flags.switches.has("help"),
  };
}

/** Runs a command: 0 done, 1 a finding or a user's mistake (one line on stderr), 2 bad arguments. */
export async function runCommand<Options>(
  command: CommandDefinition<Options>,
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: Io,
): Promise<number> {
  const options = parseArgs(command, argv);
  if (typeof options === "string") {
    io.stderr.write(`error: ${options}\n\n${usage(command)}\n`);
    return 2;
  }
  if (options.help) {
    io.stdout.write(`${usage(command)}\n`);
    return 0;
  }
  const loadStack = async (kubeconfigEnv?: string) => {
    // The program, the Pulumi SDK and the providers' SDKs load only now.
    const door = await import("./stack/load.js");
    return door.loadStack({
      stack: options.stack,
      ...(options.stackFile ? { stackFile: options.stackFile } : {}),
      ...(kubeconfigEnv ? { kubeconfigEnv } : {}),
      ...(io.loadProgram ? { load: io.loadProgram } : {}),
    });
  };
  try {
    return await command.run(options, { env, io, loadStack });
  } catch (error) {
    if (!isUserError(error)) throw error;
    io.stderr.write(`error: ${error.message}\n`);
    return 1;
  }
}

/** Runs an entry point as a program: exits with its code once the output is flushed (stdout may be a pipe). */
export function runAsProgram(main: (argv: string[], env: NodeJS.ProcessEnv, io: Io) => Promise<number>): void {
  main(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr }).then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
