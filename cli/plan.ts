/**
 * `npm run plan`: the offline plan. Runs index.ts with the stack's config under Pulumi's mock runtime — no Pulumi
 * CLI, no credentials, no cluster, no Cloudflare — after the same config gate as the CLI, and prints what the stack
 * would create for a reviewer. What it cannot show: anything the providers compute (ids, the tunnel token: mock
 * values here) and what already exists; `pulumi preview` shows the real diff.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../config/load";
import { parseFlags } from "./args";
import { runUnderMocks } from "../test/support/mock-runtime";
import { diffPlans, readPlan, renderDiff } from "./plan-diff";
import { buildPlan, PlanFileError, type Plan } from "./plan-model";
import { renderPlan, writePlanFiles } from "./plan-render";
import {
  applyProjectConfig,
  loadProjectConfig,
  missingConfigKeys,
  PulumiCliError,
  qualified,
  type ProgramConfig,
} from "./pulumi-config-gate";
import { readProjectFile, readStackFile, StackFileError, stackFilePath } from "./stack-files";

const USAGE = `usage: npm run plan [-- OPTIONS]

Runs the stack under Pulumi's mock runtime, offline, and prints what it would create.

  --stack NAME        the stack (default homecluster): reads Pulumi.NAME.yaml
  --stack-file FILE   read this stack file instead
  --values            print each Helm release's values (folded by default)
  --json              print the plan as JSON (input of --diff)
  --diff OLD.json     print what changes from an earlier --json plan to this one
  --out DIR           also write plan.txt, plan.json, the Helm values and every object as files (with --diff too)
  --help              this text
`;

interface PlanArgs {
  stack: string;
  stackFile: string | undefined;
  values: boolean;
  json: boolean;
  diff: string | undefined;
  out: string | undefined;
}

function parseArgs(argv: string[]): PlanArgs | "help" | string {
  const flags = parseFlags(argv, {
    switches: ["help", "values", "json"],
    values: ["stack", "stack-file", "diff", "out"],
  });
  if (typeof flags === "string") return flags;
  if (flags.switches.has("help")) return "help";
  return {
    stack: flags.values.stack ?? "homecluster",
    stackFile: flags.values["stack-file"],
    values: flags.switches.has("values"),
    json: flags.switches.has("json"),
    diff: flags.values.diff,
    out: flags.values.out,
  };
}

/**
 * The config the CLI would hand the program. Secrets cannot be decrypted offline: each `secure:` value, and each
 * required secret the stack file does not hold yet (it is set per machine), becomes a placeholder.
 */
function planConfig(file: string, stack: string): { config: ProgramConfig; placeholders: string[] } {
  const project = readProjectFile();
  const stackFile = readStackFile(file);
  const config: Record<string, unknown> = { ...(stackFile.config ?? {}) };
  const declarations = loadProjectConfig(project);
  for (const key of missingConfigKeys(project, stackFile)) {
    if (declarations[key]?.secret) config[qualified(project, key)] = { secure: "plan-placeholder" };
  }
  const placeholders: string[] = [];
  const placeholder = (_ciphertext: string, key: string) => {
    const name = key.replace(`${project.name}:`, "");
    placeholders.push(name);
    return `plan-placeholder-${name}`;
  };
  return { config: applyProjectConfig(project, stack, { config }, placeholder), placeholders };
}

/** Where the plan writes, and how it loads the program (tests import it through their own module loader). */
export interface PlanIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  loadProgram: () => Promise<Record<string, unknown>>;
}

async function plan(args: PlanArgs, io: PlanIo): Promise<Plan> {
  const { config, placeholders } = planConfig(args.stackFile ?? stackFilePath(args.stack), args.stack);
  const run = await runUnderMocks({ stack: args.stack, config, load: io.loadProgram });
  // The program ran, so the config is valid; the runtime still holds it.
  return buildPlan(run, loadConfig(), { stack: args.stack, placeholders });
}

/** Runs the plan command; returns its exit code (0 done, 1 a user's mistake reported on stderr, 2 bad usage). */
export async function main(argv: string[], io: PlanIo): Promise<number> {
  const args = parseArgs(argv);
  if (args === "help") {
    io.stdout(USAGE);
    return 0;
  }
  if (typeof args === "string") {
    io.stderr(`error: ${args}\n\n${USAGE}`);
    return 2;
  }
  try {
    // Read the old plan first: a bad --diff file should not cost a whole run.
    const before = args.diff === undefined ? undefined : readPlan(args.diff);
    const current = await plan(args, io);
    if (args.out) {
      writePlanFiles(current, args.out, renderPlan(current, { values: true }));
      io.stderr(`Wrote the plan, Helm values and objects to ${args.out}/\n`);
    }
    if (before) {
      const diff = diffPlans(before, current);
      io.stdout(args.json ? `${JSON.stringify(diff, null, 2)}\n` : renderDiff(diff, current.resources.length));
    } else {
      io.stdout(args.json ? `${JSON.stringify(current, null, 2)}\n` : renderPlan(current, { values: args.values }));
    }
    return 0;
  } catch (error) {
    // The user's mistakes (a config error, a CLI gate error, a missing or broken file): one line, as the CLI prints.
    const known = [PulumiCliError, pulumi.RunError, StackFileError, PlanFileError].some(
      (type) => error instanceof type,
    );
    if (!known) throw error;
    io.stderr(`error: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- ts-node runs this as CommonJS
    loadProgram: async () => require("../index") as Record<string, unknown>,
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
