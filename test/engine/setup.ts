/**
 * One stack's run of the engine tier: a world of its own (cluster, chart repository, fake Cloudflare API), the stack
 * initialised from its fixture as a user would, the stand-ins' loop, and the summary when it ends.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { fixture, initStack, onSimulatedCluster } from "./lifecycle";
import type { Scenario } from "./scenarios";
import { kubeClient, startStandIns } from "./stand-ins";
import { engineSummary, printSummary } from "./summary";
import { startWorld } from "./world";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `the engine tier needs ${name}: HOMECLUSTER_CHART_DIR (the pinned charts, packaged) and HOMECLUSTER_ENGINE_CRDS (Cilium's LB IPAM and L2 CRDs); see docs/conformance.md`,
    );
  }
  return value;
}

/** Sets up the stack `name` (test/engine/stacks/<name>.yaml) for the file's scenarios; `existing`: its namespaces. */
export function engineStack(name: string, existing: string[]): Scenario {
  const s = { existing } as Scenario;
  let stopStandIns: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    s.world = await startWorld(required("HOMECLUSTER_CHART_DIR"));
    s.kube = kubeClient(s.world.kubeconfig);
    stopStandIns = startStandIns(
      s.world.kubeconfig,
      required("HOMECLUSTER_ENGINE_CRDS"),
      s.world.account,
      path.join(s.world.home, "stand-ins.log"),
    );
    s.config = onSimulatedCluster(s.world, fixture(name));
    s.dir = initStack(s.world, name, s.config);
    engineSummary.tools = s.world.tools;
  });
  afterAll(async () => {
    await stopStandIns?.();
    if (s.world) {
      const log = path.join(s.world.home, "stand-ins.log");
      engineSummary.standInLog = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
      await s.world.stop();
    }
    printSummary(name);
  });
  return s;
}
