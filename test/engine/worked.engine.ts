/**
 * The engine tier on the worked example's stack: the real Pulumi CLI and Kubernetes provider run the program's
 * preview, up, refresh and destroy against the simulated cluster, through a user's whole life cycle. The scenarios run
 * in order, each on what the one before left (as a user's stack goes).
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OperationResult } from "./operation";
import {
  fixture,
  helmReleases,
  initStack,
  npmRun,
  onSimulatedCluster,
  plan,
  resourcePath,
  type StackConfig,
} from "./lifecycle";
import { kubeClient, startStandIns, type Kube } from "./stand-ins";
import { changed, operate, STACK, startWorld, type World } from "./world";
import { engineSummary, printSummary } from "./summary";

const CHARTS = process.env["HOMECLUSTER_CHART_DIR"];
const CRDS = process.env["HOMECLUSTER_ENGINE_CRDS"];
if (!CHARTS || !CRDS) {
  throw new Error(
    "the engine tier needs HOMECLUSTER_CHART_DIR (the packaged pinned charts) and HOMECLUSTER_ENGINE_CRDS (Cilium's LB IPAM and L2 CRDs): see docs/conformance.md",
  );
}

let world: World;
let kube: Kube;
let stopStandIns: () => Promise<void>;
let dir: string;
let config: StackConfig;

/** Names of the steps that change something, as `op name`. */
const changes = (result: OperationResult) => changed(result).map((s) => `${s.op} ${s.name}`);

function expectOk(result: OperationResult) {
  expect(result.error ?? "", `${result.operation} failed: ${result.diagnostics.join("\n")}`).toBe("");
  expect(result.ok).toBe(true);
}

beforeAll(async () => {
  world = await startWorld(CHARTS);
  kube = kubeClient(world.kubeconfig);
  stopStandIns = startStandIns(world.kubeconfig, CRDS, world.account, path.join(world.home, "stand-ins.log"));
  config = onSimulatedCluster(world, fixture("worked"));
  dir = initStack(world, "worked", config);
  engineSummary.tools = world.tools;
}, 3_600_000);

afterAll(async () => {
  await stopStandIns?.();
  if (world)
    engineSummary.standInLog = fs
      .readFileSync(path.join(world.home, "stand-ins.log"), "utf8")
      .split("\n")
      .filter(Boolean);
  await world?.stop();
  printSummary("the worked example");
});

describe(`the worked example's stack (test/engine/stacks/worked.yaml) on a simulated cluster`, () => {
  it("1. preflight passes once the namespaces the README tells a user to create exist", async () => {
    const before = npmRun(world, dir, "preflight", ["--stack-file", path.join(dir, `Pulumi.${STACK}.yaml`)]);
    expect(before.status, before.stdout).toBe(1);
    expect(before.stdout).toMatch(/monitoring/);
    for (const name of ["monitoring", "media", "infra"]) {
      await kube("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    }
    const after = npmRun(world, dir, "preflight", ["--stack-file", path.join(dir, `Pulumi.${STACK}.yaml`)]);
    expect(after.status, after.stdout).toBe(0);
  });

  it("2. preview, then up from nothing: every release deployed, every object the plan lists in the cluster as the stack sets it", async () => {
    const preview = await operate(world, dir, "preview");
    expectOk(preview);
    const planned = plan(world, dir);
    const creates = changed(preview).filter((s) => s.op === "create");
    expect(changed(preview).filter((s) => s.op !== "create")).toEqual([]);
    expect(creates.length).toBe(planned.resources.filter((r: any) => !r.read).length);

    const up = await operate(world, dir, "up");
    expectOk(up);
    engineSummary.figures.push(`first up: ${up.seconds.toFixed(1)} s (${creates.length} resources)`);

    const releases = await helmReleases(kube);
    const declared = planned.resources.filter((r: any) => r.type === "kubernetes:helm.sh/v3:Release");
    expect(declared.length).toBe(7);
    for (const r of declared) {
      expect(releases.get(`${r.inputs.namespace}/${r.inputs.name}`), `${r.inputs.namespace}/${r.inputs.name}`).toEqual({
        status: "deployed",
        version: 1,
      });
    }
    const objects = planned.resources.filter(
      (r: any) =>
        r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release" && !r.read && r.inputs.metadata,
    );
    expect(objects.length).toBeGreaterThan(25);
    for (const r of objects) {
      const patch = r.type.endsWith("Patch");
      const [, group, kind] = /^kubernetes:([^:]+):(\w+)$/.exec(r.type)!;
      const apiVersion = group!.startsWith("core/") ? group!.slice(5) : group!;
      const route = await resourcePath(
        kube,
        apiVersion,
        patch ? kind!.replace(/Patch$/, "") : kind!,
        r.inputs.metadata.namespace,
        r.inputs.metadata.name,
      );
      const live = route && (await kube("GET", route));
      expect(live, `${r.type} ${r.inputs.metadata.namespace ?? ""}/${r.inputs.metadata.name}`).toBeDefined();
      expect(live.metadata.labels ?? {}).toMatchObject(r.inputs.metadata.labels ?? {});
      if (r.inputs.spec) expect(live.spec, `${kind} ${r.inputs.metadata.name}`).toMatchObject(r.inputs.spec);
    }
  });

  it("3. a second preview shows no change; refresh, then preview: still none", async () => {
    const again = await operate(world, dir, "preview");
    expectOk(again);
    expect(changes(again)).toEqual([]);
    const refresh = await operate(world, dir, "refresh");
    expectOk(refresh);
    expect(changes(refresh)).toEqual([]);
    const after = await operate(world, dir, "preview");
    expectOk(after);
    expect(changes(after)).toEqual([]);
  });

  it("4. doctor after up: every check passes; what kwok cannot show is named as skipped", () => {
    const doctor = npmRun(world, dir, "doctor", ["--json", "--stack-file", path.join(dir, `Pulumi.${STACK}.yaml`)]);
    const report = JSON.parse(doctor.stdout.slice(doctor.stdout.indexOf("{")));
    const failing = report.checks.filter((c: any) => c.status === "fail" || c.status === "warn");
    expect(failing.map((c: any) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(doctor.status).toBe(0);
  });
});
