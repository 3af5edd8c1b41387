/**
 * examples/app-stack as a consuming repository runs it: its own Pulumi.yaml through the CLI gate, and the outputs of
 * a homecluster run (the test stack's config) behind its StackReference.
 */
import { describe, expect, it, vi } from "vitest";
import { applyProjectConfig } from "../offline/config-gate";
import { readStackFile } from "../offline/stack-files";
import type { ProjectFile } from "../offline/config-gate";
import { decrypt, runProgram } from "./support/harness";
import { runUnderMocks, type MockRun } from "../offline/mock-runtime";

const PROJECT = "homecluster-app-example";
const project = readStackFile("examples/app-stack/Pulumi.yaml") as ProjectFile;

async function runExample(outputs: Record<string, unknown>, config: Record<string, unknown> = {}): Promise<MockRun> {
  const stackFile = { config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`${PROJECT}:${k}`, v])) };
  return runUnderMocks({
    project: PROJECT,
    stack: "dev",
    config: applyProjectConfig(project, "dev", stackFile, decrypt),
    stackReferences: { "organization/homecluster/homecluster": outputs },
    load: async () => {
      vi.resetModules();
      return (await import("../examples/app-stack/index.js")) as Record<string, unknown>;
    },
  });
}

describe("the example app stack, on homecluster's outputs", () => {
  it("binds its VirtualService to homecluster's gateway and admits only the gateway's identity", async () => {
    const homecluster = await runProgram();
    const outputs = Object.fromEntries(Object.entries(homecluster.outputs).map(([k, v]) => [k, v.value]));
    const run = await runExample(outputs);
    const route = run.resources.find((r) => r.name === "whoami-route")!;
    expect(route.inputs.metadata).toEqual({ namespace: "media", labels: { "homecluster.io/tunnel-route": "true" } });
    expect(route.inputs.spec).toMatchObject({ hosts: ["whoami.example.com"], gateways: ["istio-ingress/public"] });
    const allow = run.resources.find((r) => r.name === "whoami-allow-gateway")!;
    expect(allow.inputs.spec.rules).toEqual([
      {
        from: [{ source: { principals: ["cluster.local/ns/istio-ingress/sa/istio-ingress"] } }],
        to: [{ operation: { ports: ["8080"] } }],
      },
    ]);
    expect(run.outputs.url?.value).toBe("https://whoami.example.com");
  });
});
