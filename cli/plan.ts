/**
 * `npm run plan`: the offline plan. Runs index.ts with the stack's config offline — no Pulumi CLI, no credentials,
 * no cluster, no Cloudflare — after the same config gate as the CLI, as a preview before anything exists, and prints
 * what the stack would create for a reviewer. What it cannot show: what the providers compute (ids, tokens, Access
 * audiences: `[computed]`) and what already exists; `pulumi preview` shows the real diff.
 */
import { runAsProgram, runCommand, type CommandDefinition, type Io } from "./command";
import { diffPlans, readPlan, renderDiff } from "./plan-diff";
import { renderPlan, writePlanFiles } from "./plan-render";

interface PlanOptions {
  values: boolean;
  diff: string | undefined;
  out: string | undefined;
}

export const plan: CommandDefinition<PlanOptions> = {
  name: "plan",
  purpose: "Runs the stack offline, as a preview before anything exists, and prints what it would create.",
  flags: [
    { name: "values", help: "print each Helm release's values (folded by default)" },
    { name: "diff", value: "OLD.json", help: "print what changes from an earlier --json plan to this one" },
    {
      name: "out",
      value: "DIR",
      help: "also write plan.txt, plan.json, the Helm values and every object as files (with --diff too)",
    },
  ],
  notes: ["Write a plan to compare later with: npm run -s plan -- --json > base.json"],
  options: (flags) => ({
    values: flags.switches.has("values"),
    diff: flags.values.diff,
    out: flags.values.out,
  }),
  run: async (options, { io, loadStack }) => {
    // Read the old plan first: a bad --diff file should not cost a whole run.
    const before = options.diff === undefined ? undefined : readPlan(options.diff);
    const { buildPlan } = await import("./stack/plan-model.js");
    const current = buildPlan(await loadStack());
    if (options.out) {
      writePlanFiles(current, options.out, renderPlan(current, { values: true }));
      io.stderr.write(`Wrote the plan, Helm values and objects to ${options.out}/\n`);
    }
    if (before) {
      const diff = diffPlans(before, current);
      io.stdout.write(
        options.json
          ? `${JSON.stringify(diff, null, 2)}\n`
          : renderDiff(diff, current.resources.length, { values: options.values }),
      );
    } else {
      io.stdout.write(
        options.json ? `${JSON.stringify(current, null, 2)}\n` : renderPlan(current, { values: options.values }),
      );
    }
    return 0;
  },
};

export function main(argv: readonly string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  return runCommand(plan, argv, env, io);
}

if (require.main === module) runAsProgram(main);
