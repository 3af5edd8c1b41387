/** The offline runtime refuses what the Pulumi engine refuses: two resources of one URN. */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runUnderMocks } from "../offline/mock-runtime";

class Part extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:test:Part", name, {}, opts);
    this.registerOutputs({});
  }
}

describe("the mock runtime", () => {
  it("fails a run that registers one URN twice, as the engine does (two ServiceEntries meeting on one key did)", async () => {
    const run = runUnderMocks({
      stack: "dev",
      config: { config: {}, secretKeys: [] },
      load: async () => {
        new Part("mesh-service-entry-a-b-c");
        new Part("mesh-service-entry-a-b-c");
        return {};
      },
    });
    await expect(run).rejects.toThrow(
      "Duplicate resource URN 'urn:pulumi:dev::homecluster::homecluster:test:Part::mesh-service-entry-a-b-c'",
    );
  });

  it("records distinct names", async () => {
    const run = await runUnderMocks({
      stack: "dev",
      config: { config: {}, secretKeys: [] },
      load: async () => {
        new Part("a");
        new Part("b");
        return {};
      },
    });
    expect(run.resources.map((r) => r.name)).toEqual(["a", "b"]);
  });
});
