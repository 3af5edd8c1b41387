import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { objectsOf } from "../offline/graph";
import { PROJECT_ROOT } from "../offline/stack-files";
import { chartOf, charts, defaultChartRepositories, defaultVersions } from "../versions";
import { KUBE_VERSION } from "./conformance/env";
import { runProgram } from "./support/harness";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  "working-directory"?: string;
  env?: Record<string, string>;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<
    string,
    {
      "runs-on": unknown;
      "timeout-minutes"?: number;
      environment?: string;
      needs?: string;
      if?: string;
      strategy?: { matrix: Record<string, unknown[]> };
      steps: Step[];
    }
  >;
}

const dir = path.join(PROJECT_ROOT, ".github/workflows");
const workflows = Object.fromEntries(
  fs.readdirSync(dir).map((file) => [file, parseYaml(fs.readFileSync(path.join(dir, file), "utf8")) as Workflow]),
);
const steps = (file: string) => Object.values(workflows[file]!.jobs).flatMap((job) => job.steps);
/** What every Pulumi step passes: the CLI version from .pulumi-version, the stack, the backend. */
const PULUMI_STEP = {
  "pulumi-version-file": ".pulumi-version",
  "stack-name": "homecluster",
  "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
};
const jobs = () =>
  Object.entries(workflows).flatMap(([file, w]) => Object.entries(w.jobs).map(([name, job]) => ({ file, name, job })));

describe("GitHub workflows", () => {
  it("pin every action by commit SHA", () => {
    const uses = Object.keys(workflows).flatMap((file) =>
      steps(file).flatMap((step) => (step.uses ? [step.uses] : [])),
    );
    expect(uses.length).toBeGreaterThan(5);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it("on pull requests: the tests, then a pulumi preview commented on the PR, for this repository's branches only", () => {
    const pr = workflows["pull-request.yml"]!;
    expect(Object.keys(pr.on)).toEqual(["pull_request"]);
    expect(pr.permissions).toEqual({ contents: "read" });
    expect(pr.jobs.test!.steps.map((s) => s.run).filter(Boolean)).toEqual([
      "npm ci",
      "npm test",
      "npm run test:commands",
      "npm run pack:contract",
      "npm install --no-audit --no-fund && npm run typecheck",
    ]);
    expect(pr.jobs.test!.steps.at(-1)).toMatchObject({ "working-directory": "examples/app-stack" });
    expect(pr.jobs.preview!.needs).toBe("test");
    expect(pr.jobs.preview!.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    const pulumiSteps = pr.jobs.preview!.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(pulumiSteps.map((s) => s.with)).toEqual([
      {
        ...PULUMI_STEP,
        command: "preview",
        diff: true,
        refresh: true,
        "comment-on-pr": true,
        "edit-pr-comment": true,
        "comment-on-summary": true,
        "github-token": "${{ secrets.GITHUB_TOKEN }}",
      },
    ]);
  });

  it("on every pull request, forks too: the offline plan of the head diffed against the base's, as an artifact", () => {
    const job = workflows["pull-request.yml"]!.jobs["offline-plan"]!;
    expect(job.if).toBeUndefined();
    const checkouts = job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkouts.map((s) => s.with)).toEqual([
      { ref: "${{ github.event.pull_request.base.sha }}", path: "base" },
      { path: "head" },
    ]);
    const runs = job.steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toContain('npm run --silent plan -- --json > "$RUNNER_TEMP/base.json"');
    expect(runs).toContain(
      'npm run --silent plan -- --diff "$RUNNER_TEMP/base.json" --out "$RUNNER_TEMP/pr/plan-out" > "$RUNNER_TEMP/diff.txt"',
    );
    expect(job.steps.at(-1)).toMatchObject({
      uses: expect.stringMatching(/^actions\/upload-artifact@/),
      with: { name: "offline-plan" },
    });
  });

  it("comment the offline plan from the default branch, reading the artifact as data, checking out nothing", () => {
    const comment = workflows["pr-comment.yml"]!;
    expect(comment.on).toEqual({
      workflow_run: { workflows: [workflows["pull-request.yml"]!.name], types: ["completed"] },
    });
    expect(comment.permissions).toEqual({ actions: "read", "pull-requests": "write" });
    const job = comment.jobs.comment!;
    expect(job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"))).toEqual([]);
    expect(job.steps[0]).toMatchObject({
      uses: expect.stringMatching(/^actions\/download-artifact@/),
      with: { name: "offline-plan", "run-id": "${{ github.event.workflow_run.id }}" },
    });
    expect(job.steps[1]!.run).toContain('[[ "$number" =~ ^[0-9]+$ ]]');
    expect(job.steps[2]).toMatchObject({
      uses: expect.stringMatching(/^marocchino\/sticky-pull-request-comment@/),
      with: { header: "offline-plan", number_force: "${{ steps.pr.outputs.number }}" },
    });
  });

  describe("run the conformance tier on every pull request, forks too", () => {
    const job = () => workflows["pull-request.yml"]!.jobs["conformance"]!;
    const action = (name: string) => job().steps.find((s) => s.uses?.startsWith(`${name}@`));
    const runs = () => job().steps.flatMap((s) => (s.run ? [s.run] : []));

    it("with the Helm that scripts/conformance/ensure-helm builds where none can be downloaded", () => {
      const ensureHelm = fs.readFileSync(path.join(PROJECT_ROOT, "scripts/conformance/ensure-helm"), "utf8");
      const pinned = /^HELM_VERSION=(\S+)$/m.exec(ensureHelm)?.[1];
      expect(pinned).toMatch(/^v4\.\d+\.\d+$/);
      expect(action("azure/setup-helm")?.with?.["version"]).toBe(pinned);
    });

    it("admitting through a kind cluster of the Kubernetes minor the charts are rendered for, its node image by digest", () => {
      const kind = action("helm/kind-action")!.with!;
      const image = String(kind["node_image"]);
      expect(image).toMatch(/^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
      expect(/:v(\d+\.\d+)\./.exec(image)?.[1]).toBe(KUBE_VERSION);
      // The kubeconfig the tier admits through is that cluster's.
      const tier = runs().find((r) => r.includes("npm run test:conformance"))!;
      expect(tier).toContain(`kind get kubeconfig --name ${String(kind["cluster_name"])} > "$RUNNER_TEMP/kubeconfig"`);
      expect(tier).toContain('HOMECLUSTER_CONFORMANCE_KUBECONFIG="$RUNNER_TEMP/kubeconfig" npm run test:conformance');
    });

    it("pulling the charts from their repositories, as a user's laptop does", () => {
      // Neither a step's script nor its env points the tier at a folder of charts.
      expect(JSON.stringify(job())).not.toContain("HOMECLUSTER_CHART_DIR");
      expect(runs().some((r) => r.includes("npm run test:conformance"))).toBe(true);
    });

    it("with the CRD of every Cilium kind the stack creates, fetched at the pinned Cilium tag", async () => {
      const step = job().steps.find((s) => s.run?.includes("HOMECLUSTER_CONFORMANCE_CRDS"))!;
      const run = step.run!;
      // The tag as the step computes it, from versions.ts.
      const tagCommand = /^tag="v\$\((.+)\)"$/m.exec(run)?.[1];
      const tag = execFileSync("bash", ["-c", tagCommand!], { cwd: PROJECT_ROOT, encoding: "utf8" });
      expect(tag).toBe(defaultVersions.cilium);
      expect(run).toContain(
        '"https://raw.githubusercontent.com/cilium/cilium/$tag/pkg/k8s/apis/cilium.io/client/crds/$crd.yaml"',
      );
      const fetched = /for crd in ([^;]+);/.exec(run)?.[1]?.trim().split(/\s+/);
      const plural = (kind: string) => kind.toLowerCase().replace(/y$/, "ie") + "s";
      const kinds = objectsOf(await runProgram())
        .filter((o) => o.mode === "create" && o.apiVersion.startsWith("cilium.io/"))
        .map((o) => `${o.apiVersion.split("/")[1]}/${plural(o.kind)}`);
      expect(kinds.length).toBeGreaterThan(0);
      expect(fetched?.sort()).toEqual([...new Set(kinds)].sort());
      expect(run).toContain('echo "HOMECLUSTER_CONFORMANCE_CRDS=$dir" >> "$GITHUB_ENV"');
    });

    it("with no condition that would skip it", () => {
      expect(job().if).toBeUndefined();
      expect(job().needs).toBeUndefined();
    });
  });

  describe("run the engine tier on every pull request, forks too", () => {
    const job = () => workflows["pull-request.yml"]!.jobs["engine"]!;
    const runs = () => job().steps.flatMap((s) => (s.run ? [s.run] : []));

    it("with the real Kubernetes provider plugin the CLI installs, and the Pulumi CLI at .pulumi-version", () => {
      const tier = job().steps.find((s) => s.run === "npm run test:engine")!;
      expect(tier.env).toEqual({ HOMECLUSTER_ENGINE_PLUGINS: "registry" });
      expect(runs().join("\n")).toContain("scripts/engine/ensure-pulumi");
      expect(job().if).toBeUndefined();
    });

    it("with every pinned chart pulled at its pin, served to the tier as its chart folder", () => {
      const step = runs().find((r) => r.includes("HOMECLUSTER_CHART_DIR"))!;
      const pulled = [...step.matchAll(/helm pull "?\$?([\w-]+)"? --repo (\S+) --version "\$\(pin (\w+)\)"/g)].map(
        (m) => [m[1], m[2], m[3]],
      );
      const loop = /for chart in ([^;]+);/.exec(step)?.[1]?.trim().split(/\s+/) ?? [];
      const expected = Object.values(charts).map((c) => c.chart);
      const names = pulled.flatMap(([name]) => (name === "chart" ? loop : [name]));
      expect(names.sort()).toEqual(expected.sort());
      for (const [name, repo, pin] of pulled) {
        const family = name === "chart" ? "istio" : chartOf(name!)!.family;
        expect([repo, pin]).toEqual([defaultChartRepositories[family], family]);
      }
    });
  });

  it("check renovate.json with Renovate's own validator (it needs Node 24)", () => {
    const job = workflows["pull-request.yml"]!.jobs["renovate-config"]!;
    expect(job.steps.map((s) => s.run).filter(Boolean)).toEqual([
      "npx --yes --package renovate@44.121.2 -- renovate-config-validator --strict renovate.json",
    ]);
  });

  it("on main: pulumi up behind a protected environment, then a preview that expects no changes", () => {
    const deploy = workflows["deploy.yml"]!;
    expect(deploy.on).toHaveProperty("push");
    expect(deploy.jobs.up!.environment).toBe("homecluster");
    const pulumiSteps = deploy.jobs.up!.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(pulumiSteps.map((s) => s.with)).toEqual([
      {
        ...PULUMI_STEP,
        command: "up",
        diff: true,
        refresh: true,
        message: "${{ github.event.head_commit.message }}",
      },
      { ...PULUMI_STEP, command: "preview", "expect-no-changes": true },
    ]);
  });

  it("bound every job's run time", () => {
    for (const { file, name, job } of jobs()) {
      expect(job["timeout-minutes"], `${file}: ${name}`).toBeGreaterThan(0);
      expect(job["timeout-minutes"], `${file}: ${name}`).toBeLessThanOrEqual(60);
    }
  });

  it("run Node 22 (.nvmrc) and test on 22 and 24, while package.json still allows Node 20.19 here", () => {
    expect(fs.readFileSync(path.join(PROJECT_ROOT, ".nvmrc"), "utf8").trim()).toBe("22");
    for (const { file, name, job } of jobs()) {
      for (const step of job.steps.filter((s) => s.uses?.startsWith("actions/setup-node@"))) {
        const version = step.with?.["node-version-file"] ?? step.with?.["node-version"];
        // Renovate's validator is the one job that needs Node 24.
        const expected = name === "renovate-config" ? /^24$/ : /^((head\/)?\.nvmrc|\$\{\{ matrix\.node \}\})$/;
        expect(String(version), `${file}: ${name}`).toMatch(expected);
      }
    }
    expect(workflows["pull-request.yml"]!.jobs.test!.strategy?.matrix.node).toEqual([22, 24]);
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
    expect(pkg.engines.node).toBe(">=20.19");
  });

  it("pin the Pulumi CLI to the exact version in .pulumi-version on every Pulumi step", () => {
    expect(fs.readFileSync(path.join(PROJECT_ROOT, ".pulumi-version"), "utf8")).toMatch(/^\d+\.\d+\.\d+\n$/);
    const pulumiSteps = Object.keys(workflows).flatMap((file) =>
      steps(file).filter((s) => s.uses?.startsWith("pulumi/actions@")),
    );
    expect(pulumiSteps.length).toBeGreaterThan(0);
    for (const step of pulumiSteps) expect(step.with).toMatchObject(PULUMI_STEP);
  });
});
