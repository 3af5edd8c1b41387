/** The program checks (support/program-checks.ts) hold on the tests' stack, and find what they look for. */
import { describe, expect, it } from "vitest";
import { MOCK_TUNNEL_TOKEN } from "../offline/mock-runtime";
import { sharedRun, TYPES, type ProgramRun } from "./support/harness";
import { programProblems } from "./support/program-checks";

describe("the program checks", () => {
  const run = sharedRun();

  it("find nothing wrong with the tests' stack", () => {
    expect(programProblems(run())).toEqual([]);
  });

  it("find a default provider, a plain token, a hostname without its CNAME and a tunnel without its 404", () => {
    const resources = structuredClone(run().resources);
    const broken: ProgramRun = { ...run(), resources, all: (type) => resources.filter((r) => r.type === type) };
    const release = resources.find((r) => r.name === "cilium-release")!;
    release.provider = undefined;
    release.rawInputs = { ...release.rawInputs, leaked: MOCK_TUNNEL_TOKEN };
    const jellyfin = resources.findIndex((r) => r.type === TYPES.dnsRecord && r.inputs.name === "jellyfin.example.com");
    resources.splice(jellyfin, 1);
    const config = resources.find((r) => r.type === TYPES.tunnelConfig)!;
    (config.inputs.config as { ingresses: unknown[] }).ingresses.pop();
    expect(programProblems(broken)).toEqual([
      "cilium-release: provider default, not urn:pulumi:homecluster::homecluster::pulumi:providers:kubernetes::k8s",
      "cilium-release: a token in plain text at leaked",
      "tunnel configuration: the last rule is ssh.example.com → ssh://bastion.infra.svc.cluster.local:22, not the catch-all 404",
      "jellyfin.example.com: no proxied CNAME",
    ]);
  });
});
