import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT } from "./harness";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { "runs-on": unknown; environment?: string; needs?: string; steps: Step[] }>;
}

const dir = path.join(PROJECT_ROOT, ".github/workflows");
const workflows = Object.fromEntries(
  fs.readdirSync(dir).map((file) => [file, parseYaml(fs.readFileSync(path.join(dir, file), "utf8")) as Workflow]),
);
const steps = (file: string) => Object.values(workflows[file]!.jobs).flatMap((job) => job.steps);
/** The inputs pulumi/actions v7.0.0 declares in its action.yml (the ones these workflows may use). */
const PULUMI_ACTION_INPUTS = new Set([
  "command",
  "stack-name",
  "work-dir",
  "cloud-url",
  "comment-on-pr",
  "edit-pr-comment",
  "comment-on-summary",
  "github-token",
  "diff",
  "refresh",
  "expect-no-changes",
  "message",
]);

describe("GitHub workflows", () => {
  it("pin every action by commit SHA", () => {
    const uses = Object.keys(workflows).flatMap((file) =>
      steps(file).flatMap((step) => (step.uses ? [step.uses] : [])),
    );
    expect(uses.length).toBeGreaterThan(5);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it("on pull requests: install, test, then a pulumi preview of the stack commented on the PR", () => {
    const pr = workflows["pull-request.yml"]!;
    expect(Object.keys(pr.on)).toEqual(["pull_request"]);
    expect(pr.jobs.test!.steps.map((s) => s.run).filter(Boolean)).toEqual([
      "npm ci",
      "npm test",
      "npm run plan -- --out plan-out",
    ]);
    expect(pr.jobs.preview!.needs).toBe("test");
    const preview = pr.jobs.preview!.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    expect(preview.with).toMatchObject({ command: "preview", "stack-name": "homecluster", "comment-on-pr": true });
  });

  it("on main: pulumi up behind a protected environment, then a preview that expects no changes", () => {
    const deploy = workflows["deploy.yml"]!;
    expect(deploy.on).toHaveProperty("push");
    expect(deploy.jobs.up!.environment).toBe("homecluster");
    const pulumiSteps = deploy.jobs.up!.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(pulumiSteps.map((s) => [s.with?.command, s.with?.["expect-no-changes"] ?? false])).toEqual([
      ["up", false],
      ["preview", true],
    ]);
  });

  it("use only inputs the Pulumi action declares", () => {
    const inputs = Object.keys(workflows).flatMap((file) =>
      steps(file)
        .filter((s) => s.uses?.startsWith("pulumi/actions@"))
        .flatMap((s) => Object.keys(s.with ?? {})),
    );
    expect(inputs.filter((input) => !PULUMI_ACTION_INPUTS.has(input))).toEqual([]);
  });
});
