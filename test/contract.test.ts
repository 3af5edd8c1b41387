import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { HomeclusterOutputs } from "../contract";
import { defaultVersions } from "../versions";
import { plainOccurrences, sharedRun, TEST_API_TOKEN, TYPES, type ProgramRun } from "./support/harness";
import { MOCK_MINTED_TOKEN, MOCK_TEAM_DOMAIN, MOCK_TUNNEL_TOKEN, mockAud } from "../offline/mock-runtime";

/** The contract as a strict runtime schema: an extra, missing, renamed or re-typed output fails to parse. */
const contractSchema = z.strictObject({
  domain: z.string(),
  zoneId: z.string(),
  tunnelId: z.string(),
  tunnelCname: z.string(),
  publicHostnames: z.array(z.string()),
  routes: z.array(z.strictObject({ hostname: z.string(), kind: z.enum(["gateway", "direct"]), target: z.string() })),
  ingressGateway: z.strictObject({
    namespace: z.string(),
    service: z.string(),
    port: z.number(),
    selector: z.record(z.string(), z.string()),
    gateway: z.string(),
    principal: z.string(),
  }),
  meshNamespaces: z.array(z.string()),
  lbPools: z.array(
    z.union([z.strictObject({ cidr: z.string() }), z.strictObject({ start: z.string(), stop: z.string() })]),
  ),
  versions: z.strictObject({ cilium: z.string(), istio: z.string(), externalDns: z.string(), cloudflared: z.string() }),
  dns: z.strictObject({ externalDnsOwnerId: z.string(), tunnelRouteLabel: z.string() }),
  access: z.strictObject({
    teamDomain: z.string().nullable(),
    applications: z.record(z.string(), z.strictObject({ aud: z.string(), policies: z.array(z.string()) })),
  }),
});

// Compile-time: the schema and the exported TypeScript type describe the same shape.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaMatchesContract: Equals<z.infer<typeof contractSchema>, HomeclusterOutputs> = true;

/** The stack outputs' values, without their secret flags. */
const outputValues = (run: ProgramRun): Record<string, unknown> =>
  Object.fromEntries(Object.entries(run.outputs).map(([k, v]) => [k, v.value]));

describe("the stack output contract", () => {
  const run = sharedRun();

  it("exports exactly the contract's keys, each of the contract's type", () => {
    const outputs = outputValues(run());
    expect(schemaMatchesContract).toBe(true);
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(contractSchema.shape).sort());
    const parsed = contractSchema.safeParse(outputs);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it("exports no secret, and no token value in plain text", () => {
    const outputs = outputValues(run());
    for (const [key, output] of Object.entries(run().outputs)) expect(output.secret, key).toBe(false);
    for (const token of [TEST_API_TOKEN, MOCK_TUNNEL_TOKEN, MOCK_MINTED_TOKEN]) {
      expect(plainOccurrences(outputs, token)).toEqual([]);
    }
  });

  it("carries the test stack's config's values", () => {
    const outputs = outputValues(run());
    expect(outputs.domain).toBe("example.com");
    expect(outputs.zoneId).toBe("fedcba9876543210fedcba9876543210");
    expect(outputs.tunnelId).toBe("tunnel-tunnel-id");
    expect(outputs.tunnelCname).toBe("tunnel-tunnel-id.cfargotunnel.com");
    expect(outputs.publicHostnames).toEqual([
      "grafana.example.com",
      "jellyfin.example.com",
      "example.com",
      "ssh.example.com",
    ]);
    expect(outputs.routes).toEqual([
      {
        hostname: "grafana.example.com",
        kind: "gateway",
        target: "istio-ingress/istio-ingress:80 → grafana.monitoring.svc.cluster.local:80",
      },
      {
        hostname: "jellyfin.example.com",
        kind: "gateway",
        target: "istio-ingress/istio-ingress:80 → jellyfin.media.svc.cluster.local:8096",
      },
      {
        hostname: "example.com",
        kind: "gateway",
        target: "istio-ingress/istio-ingress:80 → homepage.media.svc.cluster.local:3000",
      },
      { hostname: "ssh.example.com", kind: "direct", target: "ssh://bastion.infra.svc.cluster.local:22" },
    ]);
    expect(outputs.ingressGateway).toEqual({
      namespace: "istio-ingress",
      service: "istio-ingress",
      port: 80,
      selector: { app: "istio-ingress", istio: "ingressgateway" },
      gateway: "istio-ingress/public",
      principal: "cluster.local/ns/istio-ingress/sa/istio-ingress",
    });
    expect(outputs.meshNamespaces).toEqual(["monitoring", "media", "infra", "cloudflared"]);
    expect(outputs.lbPools).toEqual([{ cidr: "192.168.1.224/28" }, { start: "192.168.1.240", stop: "192.168.1.250" }]);
    expect(outputs.versions).toEqual(defaultVersions);
    expect(outputs.access).toEqual({
      teamDomain: MOCK_TEAM_DOMAIN,
      applications: {
        "grafana.example.com": { aud: mockAud("access-app-grafana"), policies: ["admins"] },
        "ssh.example.com": { aud: mockAud("access-app-ssh"), policies: ["admins"] },
      },
    });
    expect(outputs.dns).toEqual({
      externalDnsOwnerId: "homecluster-homecluster",
      tunnelRouteLabel: "homecluster.io/tunnel-route",
    });
  });

  it("points consumers at objects the stack really creates", () => {
    const outputs = outputValues(run());
    const gateway = run().all(TYPES.gateway);
    expect(gateway.map((g) => `${g.inputs.metadata.namespace}/${g.inputs.metadata.name}`)).toEqual([
      (outputs.ingressGateway as HomeclusterOutputs["ingressGateway"]).gateway,
    ]);
    expect(gateway[0]!.inputs.spec.selector).toEqual(
      (outputs.ingressGateway as HomeclusterOutputs["ingressGateway"]).selector,
    );
    const records = run().all(TYPES.dnsRecord);
    expect(records.map((r) => r.inputs.name).sort()).toEqual([...(outputs.publicHostnames as string[])].sort());
  });
});
