/**
 * What preflight and doctor share: the flags, loading the stack's facts, running the checks under one deadline,
 * printing them, and the exit code. Each entry point exports `main(argv, env, io)` so the tests run it in-process.
 */
import { setMaxListeners } from "node:events";
import * as path from "node:path";
import { parseFlags } from "./args";
import type { Check } from "./checks/check";
import { createContext, type CheckContext } from "./checks/context";
import { exitCode, redact, renderJson, renderText } from "./checks/render";
import { runChecks } from "./checks/runner";
import { TOKEN_ENV } from "./clients/cloudflare";
import { loadStackFacts, StackError, type StackFacts } from "./stack";

/**
 * The deadline of every check, in seconds. With start-up (about 2 s under ts-node) an unreachable cluster or API fails
 * the command well within 15 s.
 */
export const DEFAULT_TIMEOUT_SECONDS = 10;

export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  /** What doctor --probe requests with; default: the global fetch. */
  fetch?: typeof fetch;
}

export interface Command {
  name: "preflight" | "doctor";
  /** What it is for, for --help. */
  purpose: string;
  /** Whether it takes --probe. */
  probe: boolean;
  checks(facts: StackFacts, options: { probe: boolean }): Check<CheckContext>[];
}

export interface Options {
  stack: string;
  stackFile: string | undefined;
  json: boolean;
  help: boolean;
  probe: boolean;
  timeoutSeconds: number;
}

export function usage(command: Command): string {
  return [
    `usage: npm run ${command.name} -- [--stack NAME] [--stack-file FILE] [--timeout SECONDS] [--json]${command.probe ? " [--probe]" : ""}`,
    "",
    command.purpose,
    "",
    "  --stack NAME        the stack whose config to read: Pulumi.<NAME>.yaml (default: homecluster)",
    "  --stack-file FILE   read this stack file instead",
    `  --timeout SECONDS   the deadline of every check (default: ${DEFAULT_TIMEOUT_SECONDS})`,
    "  --json              one JSON document on stdout, for scripts",
    ...(command.probe ? ["  --probe             also request https://<hostname>/ for each routed hostname"] : []),
    "",
    `Kubernetes: the stack's kube context, from homecluster:kubeconfig, $KUBECONFIG or ~/.kube/config.`,
    `Cloudflare: ${TOKEN_ENV} (export ${TOKEN_ENV}=$(pulumi config get cloudflareApiToken)); CLOUDFLARE_BASE_URL if set.`,
    "Exit code: 0 when no check failed, 1 otherwise (2: bad arguments).",
  ].join("\n");
}

/** The options, or what is wrong with the arguments. */
export function parseArgs(command: Command, argv: readonly string[]): Options | string {
  const flags = parseFlags(argv, {
    switches: ["json", "help", ...(command.probe ? (["probe"] as const) : [])],
    values: ["stack", "stack-file", "timeout"],
  });
  if (typeof flags === "string") return flags;
  const timeout = flags.values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(flags.values.timeout);
  if (!(timeout > 0)) return "--timeout takes a number of seconds above 0";
  return {
    stack: flags.values.stack ?? "homecluster",
    stackFile: flags.values["stack-file"],
    json: flags.switches.has("json"),
    help: flags.switches.has("help"),
    probe: flags.switches.has("probe"),
    timeoutSeconds: timeout,
  };
}

export async function runCommand(
  command: Command,
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: Io,
): Promise<number> {
  const options = parseArgs(command, argv);
  if (typeof options === "string") {
    io.stderr.write(`error: ${options}\n${usage(command)}\n`);
    return 2;
  }
  if (options.help) {
    io.stdout.write(`${usage(command)}\n`);
    return 0;
  }
  let facts: StackFacts;
  try {
    facts = loadStackFacts({
      stack: options.stack,
      ...(options.stackFile ? { stackFile: options.stackFile } : {}),
      ...(env.KUBECONFIG ? { kubeconfigEnv: env.KUBECONFIG } : {}),
    });
  } catch (error) {
    if (!(error instanceof StackError)) throw error;
    io.stderr.write(`error: ${error.message}\n`);
    return 1;
  }
  const deadline = AbortSignal.timeout(options.timeoutSeconds * 1000);
  // Every request in flight listens for the deadline: dozens at once is the design, not a leak.
  setMaxListeners(Infinity, deadline);
  const context = createContext({
    facts,
    env,
    deadline,
    timeoutSeconds: options.timeoutSeconds,
    fetch: io.fetch ?? fetch,
  });
  const checks = command.checks(facts, { probe: options.probe });
  const progress = !options.json && io.stdout.isTTY;
  const outcomes = await runChecks(checks, context, {
    deadline,
    timeoutSeconds: options.timeoutSeconds,
    ...(progress
      ? { onProgress: (done: number, total: number) => io.stdout.write(`\r${command.name}: ${done}/${total} checks`) }
      : {}),
  });
  if (progress) io.stdout.write("\r\x1b[K");
  const title = `${command.name} of stack ${facts.stack} (${path.relative(process.cwd(), facts.stackFile) || facts.stackFile}): kube context ${facts.kubernetes.context}, zone ${facts.domain}`;
  const text = options.json
    ? renderJson(command.name, facts.stack, outcomes)
    : renderText(command.name, title, outcomes);
  io.stdout.write(redact(text, [env[TOKEN_ENV]]));
  return exitCode(outcomes);
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
