import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { EXTERNAL_DNS_LABEL_FILTER, tunnelRouteLabels } from "../components/dns-ownership";
import {
  ExternalDns,
  externalDnsTokenPolicy,
  externalDnsValues,
  permissionGroupIds,
  type ExternalDnsValuesArgs,
} from "../components/external-dns";
import {
  isSecretAt,
  MOCK_MINTED_TOKEN,
  NAMESPACE,
  plainOccurrences,
  RELEASE,
  runProgramError,
  SECRET,
  sharedRun,
  TEST_API_TOKEN,
} from "./harness";

const API_TOKEN = "cloudflare:index/apiToken:ApiToken";
const COMPONENT = "homecluster:dns:ExternalDns";
const PERMISSION_GROUPS = "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList";
/** The committed stack config's zone and domain. */
const ZONE_ID = "fedcba9876543210fedcba9876543210";
const DOMAIN = "example.com";
/** The ids the harness's permission-group mock gives "Zone Read" and "DNS Write". */
const ZONE_READ_ID = "c8fed203ed3043cba015a93ad1616f1f";
const DNS_WRITE_ID = "4755a26eedb94da69e1066d98aa820be";
const EXISTING_TOKEN = "test-existing-external-dns-token";
const HASH_ANNOTATION = "homecluster.io/cloudflare-api-token-sha256";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const base: ExternalDnsValuesArgs = {
  domain: DOMAIN,
  zoneId: ZONE_ID,
  sources: ["service", "ingress", "istio-gateway", "istio-virtualservice"],
  policy: "sync",
  proxied: false,
  interval: "1m",
  logLevel: "info",
  txtOwnerId: "homecluster-homecluster",
  serviceMonitor: false,
};

const TOKEN_ENV = [
  { name: "CF_API_TOKEN", valueFrom: { secretKeyRef: { name: "cloudflare-api-token", key: "api-token" } } },
];

/**
 * Kubernetes label-selector matching for the forms external-dns' filter uses: comma-separated `key!=value`
 * (true when the label is absent or differs) and `key=value` terms. Anything else fails the test, so a
 * changed filter cannot pass unexamined.
 */
function selectorMatches(selector: string, labels: Record<string, string>): boolean {
  return selector.split(",").every((term) => {
    const negated = /^([^!=\s]+)\s*!=\s*([^!=\s]*)$/.exec(term.trim());
    if (negated) return labels[negated[1]!] !== negated[2];
    const equal = /^([^!=\s]+)\s*==?\s*([^!=\s]*)$/.exec(term.trim());
    if (equal) return labels[equal[1]!] === equal[2];
    throw new Error(`selector term '${term}' is not handled by this test`);
  });
}

describe("externalDnsValues", () => {
  it("configures Cloudflare, the token from the Secret, the zone, the TXT registry and the label filter", () => {
    // The security contexts are asserted by property in the next test (toEqual skips undefined keys).
    const values = { ...externalDnsValues(base), podSecurityContext: undefined, securityContext: undefined };
    expect(values).toEqual({
      provider: { name: "cloudflare" },
      env: TOKEN_ENV,
      sources: ["service", "ingress", "istio-gateway", "istio-virtualservice"],
      domainFilters: ["example.com"],
      registry: "txt",
      txtOwnerId: "homecluster-homecluster",
      txtPrefix: "%{record_type}-edns.",
      policy: "sync",
      interval: "1m",
      logLevel: "info",
      labelFilter: "homecluster.io/tunnel-route!=true",
      extraArgs: { "zone-id-filter": ZONE_ID },
      serviceMonitor: { enabled: false },
      resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "128Mi" } },
    });
  });

  it("pins the pod to the restricted Pod Security profile, which its namespace enforces", () => {
    const { podSecurityContext: pod, securityContext: container } = externalDnsValues(base) as any;
    expect(pod.runAsNonRoot).toBe(true);
    expect(pod.seccompProfile).toEqual({ type: "RuntimeDefault" });
    expect(container.runAsNonRoot).toBe(true);
    expect(container.allowPrivilegeEscalation).toBe(false);
    expect(container.readOnlyRootFilesystem).toBe(true);
    expect(container.capabilities).toEqual({ drop: ["ALL"] });
    expect(container.privileged).not.toBe(true);
  });

  it("puts the token hash, when given, on the pods as an annotation", () => {
    expect(externalDnsValues(base)).not.toHaveProperty("podAnnotations");
    expect(externalDnsValues(base, "abc123").podAnnotations).toEqual({
      "homecluster.io/cloudflare-api-token-sha256": "abc123",
    });
  });

  it("passes the policy through: sync and upsert-only", () => {
    expect(externalDnsValues({ ...base, policy: "sync" }).policy).toBe("sync");
    expect(externalDnsValues({ ...base, policy: "upsert-only" }).policy).toBe("upsert-only");
  });

  it("passes each source set through unchanged (the chart derives its RBAC from it)", () => {
    for (const sources of [
      ["service"],
      ["service", "ingress"],
      ["istio-gateway", "istio-virtualservice"],
      ["service", "crd", "gateway-httproute"],
    ] as const) {
      const values = externalDnsValues({ ...base, sources: [...sources] });
      expect(values.sources).toEqual(sources);
      // The ownership filter applies whatever the sources are.
      expect(values.labelFilter).toBe(EXTERNAL_DNS_LABEL_FILTER);
    }
  });

  it("proxies every record only when asked (--cloudflare-proxied), and passes interval, log level, owner id and ServiceMonitor", () => {
    expect(externalDnsValues({ ...base, proxied: true }).extraArgs).toEqual({
      "zone-id-filter": ZONE_ID,
      "cloudflare-proxied": true,
    });
    const values = externalDnsValues({
      ...base,
      proxied: false,
      interval: "5m",
      logLevel: "debug",
      txtOwnerId: "lab",
      serviceMonitor: true,
    });
    // No flag at all: external-dns' default is unproxied, and an annotation can still opt one object in.
    expect(values.extraArgs).toEqual({ "zone-id-filter": ZONE_ID });
    expect(values).toMatchObject({
      interval: "5m",
      logLevel: "debug",
      txtOwnerId: "lab",
      serviceMonitor: { enabled: true },
    });
  });

  it("puts the record type in its own label of the TXT prefix, so TXT never shares a name with a CNAME", () => {
    const prefix = externalDnsValues(base).txtPrefix as string;
    expect(prefix).toContain("%{record_type}");
    expect(prefix.endsWith(".")).toBe(true);
  });
});

describe("external-dns token policy builders", () => {
  const groups = [
    { id: "a", name: "Zone Read" },
    { id: "b", name: "DNS Write" },
    { id: "c", name: "Zone Write" },
  ];

  it("picks the named groups' ids in order, by exact name", () => {
    expect(permissionGroupIds(groups, ["Zone Read", "DNS Write"])).toEqual(["a", "b"]);
  });

  it("fails on a group the lookup did not return instead of minting a weaker token", () => {
    expect(() => permissionGroupIds(groups, ["Zone Read", "DNS Edit"])).toThrow(
      "Cloudflare has no API token permission group named 'DNS Edit'",
    );
  });

  it("allows exactly the given groups on exactly one zone", () => {
    const policy = externalDnsTokenPolicy(ZONE_ID, ["a", "b"]);
    expect(policy).toEqual({
      effect: "allow",
      permissionGroups: [{ id: "a" }, { id: "b" }],
      resources: JSON.stringify({ [`com.cloudflare.api.account.zone.${ZONE_ID}`]: "*" }),
    });
  });
});

describe("the label filter and DNS ownership", () => {
  it("excludes objects carrying the tunnel-route label and includes ordinary annotated objects", () => {
    expect(selectorMatches(EXTERNAL_DNS_LABEL_FILTER, tunnelRouteLabels)).toBe(false);
    expect(selectorMatches(EXTERNAL_DNS_LABEL_FILTER, { app: "nas" })).toBe(true);
    expect(selectorMatches(EXTERNAL_DNS_LABEL_FILTER, {})).toBe(true);
  });

  it("rejects a hostname that is both a tunnel route and listed for external-dns, before creating anything", async () => {
    const error = await runProgramError({ config: { externalDns: { hostnames: ["grafana.example.com"] } } });
    expect(error.message).toMatch(
      /homecluster:externalDns\.hostnames\[0\]: grafana\.example\.com is a tunnel route \(homecluster:routes\[0\]\)/,
    );
    expect(error.registered.filter((r) => r.custom)).toEqual([]);
  });
});

describe("ExternalDns under mocks with the committed config (minted token)", () => {
  const run = sharedRun();

  it("installs the pinned chart as the external-dns release in its own namespace", () => {
    const namespace = run().get(NAMESPACE, "external-dns-namespace");
    expect(namespace.inputs.metadata).toEqual({
      name: "external-dns",
      labels: { "pod-security.kubernetes.io/enforce": "restricted" },
    });
    // Not enrolled in the mesh.
    expect(namespace.inputs.metadata.labels).not.toHaveProperty("istio.io/dataplane-mode");
    expect(run().get(RELEASE, "external-dns-release").inputs).toMatchObject({
      name: "external-dns",
      chart: "external-dns",
      version: "1.21.1",
      repositoryOpts: { repo: "https://kubernetes-sigs.github.io/external-dns" },
      namespace: "external-dns",
      createNamespace: false,
      atomic: true,
    });
  });

  it("passes the committed config into the values", () => {
    expect(run().get(RELEASE, "external-dns-release").inputs.values).toEqual(
      externalDnsValues({ ...base, txtOwnerId: "homecluster-homecluster" }, sha256(MOCK_MINTED_TOKEN)),
    );
    expect(run().get(RELEASE, "external-dns-release").inputs.values).toMatchObject({
      provider: { name: "cloudflare" },
      env: TOKEN_ENV,
      domainFilters: ["example.com"],
      txtOwnerId: "homecluster-homecluster",
      policy: "sync",
      labelFilter: "homecluster.io/tunnel-route!=true",
      extraArgs: { "zone-id-filter": ZONE_ID },
    });
  });

  it("mints a token allowed only Zone Read and DNS Write on this zone, with groups looked up through the provider", () => {
    const token = run().get(API_TOKEN, "external-dns-token");
    expect(token.provider).toMatch(/pulumi:providers:cloudflare::cloudflare::/);
    expect(token.inputs.name).toBe("external-dns homecluster-homecluster (example.com)");
    expect(token.inputs.policies).toEqual([
      {
        effect: "allow",
        permissionGroups: [{ id: ZONE_READ_ID }, { id: DNS_WRITE_ID }],
        resources: JSON.stringify({ [`com.cloudflare.api.account.zone.${ZONE_ID}`]: "*" }),
      },
    ]);
    expect(JSON.parse(token.inputs.policies[0].resources)).toEqual({
      "com.cloudflare.api.account.zone.fedcba9876543210fedcba9876543210": "*",
    });
    expect(run().calls.filter((c) => c.token === PERMISSION_GROUPS)).toEqual([
      {
        token: PERMISSION_GROUPS,
        inputs: { scope: "com.cloudflare.api.account.zone" },
        provider: expect.stringMatching(/::pulumi:providers:cloudflare::cloudflare::/),
      },
    ]);
  });

  it("stores the minted token only in the Secret, as a secret, in external-dns' namespace", () => {
    const secret = run().get(SECRET, "external-dns-token-secret");
    expect(secret.inputs.metadata).toEqual({ name: "cloudflare-api-token", namespace: "external-dns" });
    expect(secret.inputs.stringData).toEqual({ "api-token": MOCK_MINTED_TOKEN });
    expect(isSecretAt(secret.rawInputs, "stringData.api-token")).toBe(true);
    expect(secret.provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
    for (const resource of run().resources) {
      expect(plainOccurrences(resource.rawInputs, MOCK_MINTED_TOKEN), resource.name).toEqual([]);
      expect(plainOccurrences(resource.rawInputs, TEST_API_TOKEN), resource.name).toEqual([]);
    }
    for (const [key, output] of Object.entries(run().outputs)) {
      expect(JSON.stringify(output.value) ?? "", key).not.toContain(MOCK_MINTED_TOKEN);
    }
  });

  it("rolls the pods when the token changes: its SHA-256 on them, in values that stay visible (not secret)", () => {
    const release = run().get(RELEASE, "external-dns-release");
    expect(release.inputs.values.podAnnotations).toEqual({ [HASH_ANNOTATION]: sha256(MOCK_MINTED_TOKEN) });
    expect(isSecretAt(release.rawInputs, "values")).toBe(false);
    expect(isSecretAt(release.rawInputs, `values.podAnnotations.${HASH_ANNOTATION}`)).toBe(false);
    expect(plainOccurrences(release.rawInputs, MOCK_MINTED_TOKEN)).toEqual([]);
  });

  it("parents everything to the component and uses the Kubernetes provider for cluster objects", () => {
    const component = run().get(COMPONENT, "external-dns");
    for (const child of [
      run().get(NAMESPACE, "external-dns-namespace"),
      run().get(SECRET, "external-dns-token-secret"),
      run().get(API_TOKEN, "external-dns-token"),
      run().get(RELEASE, "external-dns-release"),
    ]) {
      expect(child.parent).toBe(component.urn);
    }
    expect(run().get(RELEASE, "external-dns-release").provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
  });

  it("deploys after Cilium, its namespace, its Secret and Istio base (the CRDs) only, not istiod or the rest", () => {
    const release = run().get(RELEASE, "external-dns-release");
    expect([...release.dependencies].sort()).toEqual(
      [
        run().get(RELEASE, "cilium-release"),
        run().get(RELEASE, "istio-base"),
        run().get(NAMESPACE, "external-dns-namespace"),
        run().get(SECRET, "external-dns-token-secret"),
        // Through the token's hash in the values; the Secret already waits for it, so the deploy is no longer.
        run().get(API_TOKEN, "external-dns-token"),
      ]
        .map((r) => r.urn)
        .sort(),
    );
    for (const later of ["istio-istiod", "istio-cni", "istio-ztunnel", "istio-gateway"]) {
      expect(run().dependsOn(release, run().get(RELEASE, later)), later).toBe(false);
    }
  });

  it("the label filter skips every Istio Gateway and VirtualService the stack creates for tunnel routes", () => {
    const routeObjects = run().resources.filter((r) =>
      /^kubernetes:networking\.istio\.io\/[^:]+:(Gateway|VirtualService)$/.test(r.type),
    );
    // One Gateway and one VirtualService per gateway route (grafana, jellyfin, the apex).
    expect(routeObjects.map((r) => r.type.split(":").pop()).sort()).toEqual([
      "Gateway",
      "VirtualService",
      "VirtualService",
      "VirtualService",
    ]);
    for (const object of routeObjects) {
      expect(selectorMatches(EXTERNAL_DNS_LABEL_FILTER, object.inputs.metadata.labels ?? {}), object.name).toBe(false);
    }
  });
});

describe("ExternalDns under mocks with an existing token from config", () => {
  const run = sharedRun({ secrets: { cloudflareApiToken: TEST_API_TOKEN, externalDnsApiToken: EXISTING_TOKEN } });

  it("mints no token and looks up no permission groups", () => {
    expect(run().all(API_TOKEN)).toEqual([]);
    expect(run().calls.filter((c) => c.token === PERMISSION_GROUPS)).toEqual([]);
  });

  it("stores the configured token in the Secret, as a secret, and nowhere in plain text", () => {
    const secret = run().get(SECRET, "external-dns-token-secret");
    expect(secret.inputs.stringData).toEqual({ "api-token": EXISTING_TOKEN });
    expect(isSecretAt(secret.rawInputs, "stringData.api-token")).toBe(true);
    for (const resource of run().resources) {
      expect(plainOccurrences(resource.rawInputs, EXISTING_TOKEN), resource.name).toEqual([]);
    }
    const values = run().get(RELEASE, "external-dns-release").inputs.values;
    expect(values.env).toEqual(TOKEN_ENV);
    expect(values.podAnnotations).toEqual({ [HASH_ANNOTATION]: sha256(EXISTING_TOKEN) });
  });
});

describe("ExternalDns under mocks without Istio sources, upsert-only, unproxied", () => {
  const run = sharedRun({
    config: {
      externalDns: {
        hostnames: ["nas.example.com"],
        sources: ["service", "ingress"],
        policy: "upsert-only",
        proxied: false,
        txtOwnerId: "lab",
      },
    },
  });

  it("passes the config into the values", () => {
    expect(run().get(RELEASE, "external-dns-release").inputs.values).toEqual(
      externalDnsValues(
        {
          ...base,
          sources: ["service", "ingress"],
          policy: "upsert-only",
          proxied: false,
          txtOwnerId: "lab",
        },
        sha256(MOCK_MINTED_TOKEN),
      ),
    );
  });

  it("does not wait for Istio at all", () => {
    const release = run().get(RELEASE, "external-dns-release");
    expect(run().dependsOn(release, run().get(RELEASE, "cilium-release"))).toBe(true);
    for (const istio of ["istio-base", "istio-istiod"]) {
      expect(run().dependsOn(release, run().get(RELEASE, istio)), istio).toBe(false);
    }
  });
});

describe("ExternalDns argument validation", () => {
  const args = { ...base, version: "1.21.1", namespace: "external-dns", apiToken: "existing" };
  let k8sProvider: k8s.Provider;
  let cni: pulumi.ComponentResource;
  beforeAll(async () => {
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
      "homecluster",
      "homecluster",
      false,
    );
    k8sProvider = new k8s.Provider("validation-k8s", { context: "test" });
    cni = new pulumi.ComponentResource("test:index:Cni", "validation-cni");
  });

  it("requires Istio's CRDs when an Istio source is enabled, and not otherwise", () => {
    expect(() => new ExternalDns("edns-istio", { ...args, cniReady: cni }, { providers: [k8sProvider] })).toThrow(
      "external-dns sources istio-gateway, istio-virtualservice need Istio's CRDs",
    );
    expect(
      () =>
        new ExternalDns("edns-plain", { ...args, sources: ["service"], cniReady: cni }, { providers: [k8sProvider] }),
    ).not.toThrow();
  });

  it("requires explicit providers: Kubernetes always, Cloudflare when it mints the token", () => {
    const plain = { ...args, sources: ["service" as const], cniReady: cni };
    expect(() => new ExternalDns("edns-none", plain)).toThrow("ExternalDns needs an explicit kubernetes provider");
    expect(() => new ExternalDns("edns-mint", { ...plain, apiToken: undefined }, { providers: [k8sProvider] })).toThrow(
      "ExternalDns needs an explicit cloudflare provider",
    );
  });
});
