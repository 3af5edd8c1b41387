/**
 * Adoption (`homecluster:adopt`): the program sets Pulumi's `import` option on exactly the resources config names,
 * keeps an adopted Helm release's name and namespace (the provider replaces a Release whose name or namespace
 * changes), forces the stack's fields on adopted objects, and ignores the tunnel's write-only inputs; the gate refuses
 * an entry that names nothing of the stack, naming the key. Runs the real program from a fixture stack file
 * (test/support/Pulumi.adopt-test.yaml) under the mock runtime.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/load";
import { readStackFile } from "../offline/stack-files";
import { charts, defaultVersions } from "../versions";
import { runProgram, sharedRun, TYPES, type ProgramRun } from "./support/harness";

const FIXTURE = path.join(__dirname, "support", "Pulumi.adopt-test.yaml");
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const ZONE = "fedcba9876543210fedcba9876543210";
const TUNNEL = `${ACCOUNT}/f70ff985-a4ef-4643-bbbc-4a0ed4fc8415`;

const fixtureFile = () => readStackFile(FIXTURE);
/** The fixture's plain config, keys without the project prefix, with `adopt` changed by `change`. */
function fixtureConfig(change: (adopt: Record<string, unknown>) => void = () => {}): Record<string, unknown> {
  const raw = Object.fromEntries(
    Object.entries(fixtureFile().config ?? {})
      .filter(([key]) => key !== "homecluster:cloudflareApiToken")
      .map(([key, value]) => [key.replace("homecluster:", ""), structuredClone(value)]),
  );
  change(raw.adopt as Record<string, unknown>);
  return raw;
}

const imported = (run: ProgramRun) =>
  Object.fromEntries(run.resources.filter((r) => r.importId !== undefined).map((r) => [r.name, r.importId]));

describe("a stack that adopts nothing", () => {
  const run = sharedRun({ stackFile: fixtureFile(), config: { adopt: undefined } });

  it("imports nothing, and ignores only the tunnel's write-only secret", () => {
    expect(imported(run())).toEqual({});
    const ignoring = run().resources.filter((r) => r.ignoreChanges.length > 0);
    expect(ignoring.map((r) => [r.type, r.ignoreChanges])).toEqual([[TYPES.tunnel, ["tunnelSecret"]]]);
    expect(
      run()
        .all(TYPES.namespace)
        .every((ns) => ns.inputs.metadata?.annotations === undefined),
    ).toBe(true);
  });
});

describe("a stack that adopts a Flux-managed cluster and its account", () => {
  const run = sharedRun({ stackFile: fixtureFile() });

  it("imports exactly what config names, each by the id its provider documents", () => {
    expect(imported(run())).toEqual({
      "cilium-release": "kube-system/kube-system-cilium",
      "istio-base": "istio-system/istio-base",
      "istio-istiod": "istio-system/istiod",
      "istio-cni": "istio-system/istio-cni",
      "istio-ztunnel": "istio-system/ztunnel",
      "istio-gateway": "istio-ingress/istio-ingress-gateway",
      "external-dns-release": "external-dns/external-dns-external-dns",
      "istio-system-namespace": "istio-system",
      "istio-gateway-namespace": "istio-ingress",
      "tunnel-namespace": "cloudflared",
      "external-dns-namespace": "external-dns",
      "tunnel-token": "cloudflared/cloudflared-token",
      "tunnel-deployment": "cloudflared/cloudflared",
      "mesh-mtls-strict": "istio-system/default",
      "tunnel-tunnel": TUNNEL,
      "tunnel-config": TUNNEL,
      "tunnel-dns-jellyfin": `${ZONE}/0a1b2c3d4e5f60718293a4b5c6d7e8f9`,
      "tunnel-dns-ssh": `${ZONE}/1a1b2c3d4e5f60718293a4b5c6d7e8f9`,
      "access-app-ssh": `accounts/${ACCOUNT}/5b7c1f36-2d4e-4b8a-9c1d-7e6f5a4b3c2d`,
      "access-policy-admins": `${ACCOUNT}/9e8d7c6b-5a49-4838-a726-1f0e2d3c4b5a`,
    });
  });

  it("keeps each adopted release's name and namespace, so the provider updates it in place (a helm upgrade) to the pinned chart", () => {
    for (const release of run().all(TYPES.release)) {
      const [namespace, name] = release.importId!.split("/");
      // The provider's Release Diff forces a replacement (an uninstall) on exactly `name` and `namespace`.
      expect([release.inputs.namespace, release.inputs.name]).toEqual([namespace, name]);
      expect(release.inputs.repositoryOpts.repo).toMatch(/^https:\/\//);
      expect(release.ignoreChanges).toEqual([]);
      expect(release.deleteBeforeReplace).toBe(false);
    }
    const cilium = run().get(TYPES.release, "cilium-release");
    expect(cilium.inputs).toMatchObject({ chart: "cilium", version: defaultVersions.cilium, atomic: true });
  });

  it("derives the gateway from the adopted release's name: its Service, pods and identity are named after it", () => {
    const config = run().get(TYPES.tunnelConfig, "tunnel-config").inputs.config;
    expect(config.ingresses[0]).toMatchObject({
      hostname: "jellyfin.example.com",
      service: "http://istio-ingress-gateway.istio-ingress.svc.cluster.local:80",
    });
    expect(run().get(TYPES.release, "istio-gateway").inputs.values.labels.app).toBe("istio-ingress-gateway");
    expect(run().get(TYPES.pdb, "istio-gateway-pdb").inputs.metadata.name).toBe("istio-ingress-gateway-pdb");
  });

  it("forces the stack's fields on adopted objects only, over the field managers Flux left", () => {
    const force = { "pulumi.com/patchForce": "true" };
    expect(run().get(TYPES.namespace, "tunnel-namespace").inputs.metadata.annotations).toEqual(force);
    expect(run().get(TYPES.secret, "tunnel-token").inputs.metadata.annotations).toEqual(force);
    expect(run().get(TYPES.peerAuthentication, "mesh-mtls-strict").inputs.metadata).toMatchObject({
      name: "default",
      namespace: "istio-system",
      annotations: force,
    });
    expect(run().get(TYPES.serviceAccount, "tunnel-service-account").inputs.metadata.annotations).toBeUndefined();
    expect(run().get(TYPES.pdb, "tunnel-pdb").importId).toBeUndefined();
  });

  it("ignores the tunnel's secret and config source while adopting it, and nothing else anywhere", () => {
    const ignoring = run().resources.filter((r) => r.ignoreChanges.length > 0);
    expect(ignoring.map((r) => [r.name, r.ignoreChanges])).toEqual([["tunnel-tunnel", ["tunnelSecret", "configSrc"]]]);
  });

  it("still protects the adopted tunnel, records and application", () => {
    for (const name of ["tunnel-tunnel", "tunnel-dns-jellyfin", "access-app-ssh"]) {
      expect(run().resources.find((r) => r.name === name)?.protect).toBe(true);
    }
  });
});

describe("the gate on homecluster:adopt", () => {
  const issues = (change: (adopt: Record<string, any>) => void) => {
    try {
      parseConfig(fixtureConfig(change), "adopt-test");
    } catch (error) {
      return (error as { issues: { key: string; message: string }[] }).issues;
    }
    throw new Error("the config passed");
  };

  it("passes the fixture", () => {
    const config = parseConfig(fixtureConfig(), "adopt-test");
    expect(config.adopt.releases.cilium).toEqual({ namespace: "kube-system", name: "kube-system-cilium" });
    expect([...config.adopt.objects]).toContain("Namespace cloudflared");
  });

  it("refuses a release the stack does not install, naming its releases", () => {
    expect(issues((a) => (a.releases.flannel = "kube-system/flannel"))).toEqual([
      {
        key: "homecluster:adopt.releases.flannel",
        message: `is not a Helm release of this stack (its releases: ${Object.values(charts)
          .map((c) => c.releaseName)
          .join(", ")})`,
      },
    ]);
  });

  it("refuses a release in another namespace than the stack installs it to: Helm cannot move it", () => {
    const [found] = issues((a) => (a.releases.cilium = "flux-system/kube-system-cilium"));
    expect(found!.key).toBe("homecluster:adopt.releases.cilium");
    expect(found!.message).toMatch(
      /^flux-system\/kube-system-cilium is in namespace flux-system, but the stack installs cilium into kube-system/,
    );
    const [gateway] = issues((a) => (a.releases["istio-ingress"] = "gateways/istio-ingress"));
    expect(gateway!.message).toContain("or set homecluster:istio.gateway.namespace");
  });

  it("refuses an id of the wrong form, a foreign account or zone, and names the stack does not declare", () => {
    expect(issues((a) => (a.tunnel = "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415"))).toEqual([
      { key: "homecluster:adopt.tunnel", message: "must be <account id>/<tunnel id>, the id `pulumi import` takes" },
    ]);
    expect(issues((a) => (a.tunnel = TUNNEL.replace(/^0/, "f")))[0]).toEqual({
      key: "homecluster:adopt.tunnel",
      message: `${TUNNEL.replace(/^0/, "f")} is in account f123456789abcdef0123456789abcdef, not homecluster:cloudflareAccountId`,
    });
    expect(issues((a) => (a.dnsRecords["wiki.example.com"] = `${ZONE}/${"0".repeat(32)}`))).toEqual([
      { key: "homecluster:adopt.dnsRecords.wiki.example.com", message: "is not a hostname of homecluster:routes" },
    ]);
    expect(
      issues((a) => (a.accessApplications["jellyfin.example.com"] = a.accessApplications["ssh.example.com"])),
    ).toEqual([
      {
        key: "homecluster:adopt.accessApplications.jellyfin.example.com",
        message: "is not the hostname of a route behind Access",
      },
    ]);
    expect(issues((a) => (a.accessPolicies["admins (service tokens)"] = a.accessPolicies.admins))).toEqual([
      {
        key: "homecluster:adopt.accessPolicies.admins (service tokens)",
        message: "is not an Access policy this stack makes (admins)",
      },
    ]);
    expect(issues((a) => a.namespaces.push("media"))).toEqual([
      {
        key: "homecluster:adopt.namespaces[4]",
        message:
          "'media' is not a namespace this stack creates (istio-system, istio-ingress, cloudflared, external-dns)",
      },
    ]);
    expect(issues((a) => a.objects.push("secret cloudflared/x"))[0]!.key).toBe("homecluster:adopt.objects[3]");
  });

  it("stops the program before any resource is registered", async () => {
    const registered: unknown[] = [];
    const run = runProgram(
      { stackFile: fixtureFile(), config: { adopt: { releases: { cilium: "flux-system/cilium" } } } },
      registered as never,
    );
    await expect(run).rejects.toThrow(/homecluster:adopt\.releases\.cilium: flux-system\/cilium is in namespace/);
    expect(registered.filter((r) => (r as { custom: boolean }).custom)).toEqual([]);
  });
});
