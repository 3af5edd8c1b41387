/**
 * The engine tier on the minimal new-cluster stack (test/engine/stacks/new-cluster.yaml): only the keys without a
 * default, no routes, no mesh namespace. First up, a clean second preview, doctor, destroy.
 */
import { describe, expect, it } from "vitest";
import { destroyLeavesNothing, doctorPasses, firstUp, preflightOnFreshCluster, previewIsClean } from "./scenarios";
import { engineStack } from "./setup";
import { engineSummary } from "./summary";

const s = engineStack("new-cluster", []);

describe("the minimal new-cluster stack on a simulated cluster", () => {
  it("1. preflight passes on the fresh cluster", async () => {
    await preflightOnFreshCluster(s);
  });

  it("2. preview, then up from nothing", async () => {
    const up = await firstUp(s);
    engineSummary.figures.push(`new-cluster: first up ${up.seconds.toFixed(1)} s`);
  });

  it("3. a second preview shows no change", async () => {
    await previewIsClean(s);
  });

  it("4. doctor after up", async () => {
    const skipped = await doctorPasses(s);
    expect(skipped.map((line) => line.split(":")[0])).toEqual(["external-dns-log"]);
  });

  it("10. destroy leaves nothing of the stack but the CRDs Helm keeps by design", async () => {
    const left = await destroyLeavesNothing(s);
    expect(left.filter((name: string) => !name.endsWith(".cilium.io")).length).toBe(16);
  });
});
