import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { externalDnsTokenPolicy, permissionGroupIds } from "../builders/external-dns-token";
import { externalDnsValues, type ExternalDnsValuesArgs } from "../builders/external-dns-values";
import { ExternalDns } from "../components/external-dns";
import { NO_ADOPTION } from "../model/adoption";
import { EXTERNAL_DNS_LABEL_FILTER, tunnelRouteLabels } from "../model/dns-ownership";
import { parsedConfig } from "./support/fixtures";
import { isSecretAt, plainOccurrences, runProgramError, sharedRun, TEST_API_TOKEN, TYPES } from "./support/harness";
import { MOCK_MINTED_TOKEN, setBareMocks } from "../offline/mock-runtime";
import { defaultChartRepositories } from "../versions";

const PERMISSION_GROUPS = "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList";
/** The test stack's config's zone. */
const ZONE_ID = "fedcba9876543210fedcba9876543210";
/** The ids the harness's permission-group mock gives "Zone Read" and "DNS Write". */
const ZONE_READ_ID = "c8fed203ed3043cba015a93ad1616f1f";
const DNS_WRITE_ID = "4755a26eedb94da69e1066d98aa820be";
const EXISTING_TOKEN = "test-existing-external-dns-token";
const HASH_ANNOTATION = "homecluster.io/cloudflare-api-token-sha256";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const TOKEN_ENV = [
  { name: "CF_API_TOKEN", valueFrom: { secretKeyRef: { name: "cloudflare-api-token", key: "api-token" } } },
];

/** The test stack's config's external-dns section with `overrides`, as config parses it. */
function args(overrides: Record<string, unknown> = {}): ExternalDnsValuesArgs {
  const config = parsedConfig({ externalDns: { hostnames: ["nas.example.com"], ...overrides } });
  return { externalDns: config.externalDns, domain: config.domain, zoneId: config.cloudflareZoneId };
}

/**
 * Kubernetes label-selector matching for the forms external-dns' filter uses: comma-separated `key!=value` (true when
 * the label is absent or differs) and `key=value` terms. Anything else fails the test, so a changed filter cannot
 * pass unexamined.
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
  it("configures Cloudflare, the token from the Secret, one zone, the TXT registry and the label filter", () => {
    const { podSecurityContext, securityContext, ...values } = externalDnsValues(args());
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
    // The restricted Pod Security profile its namespace enforces.
    expect(podSecurityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      privileged: false,
    });
  });

  it("proxies every record only when config asks (--cloudflare-proxied); otherwise passes no proxy flag at all", () => {
    expect(externalDnsValues(args({ proxied: true })).extraArgs).toEqual({
      "zone-id-filter": ZONE_ID,
      "cloudflare-proxied": true,
    });
    // external-dns' default is unproxied, and an annotation can still opt one object in.
    expect(externalDnsValues(args({ proxied: false })).extraArgs).toEqual({ "zone-id-filter": ZONE_ID });
  });

  it("passes sources, policy, interval, log level, owner id and ServiceMonitor through", () => {
    const values = externalDnsValues(
      args({
        sources: ["service", "crd"],
        policy: "upsert-only",
        interval: "5m",
        logLevel: "debug",
        txtOwnerId: "lab",
        serviceMonitor: true,
      }),
    );
    expect(values).toMatchObject({
      sources: ["service", "crd"],
      policy: "upsert-only",
      interval: "5m",
      logLevel: "debug",
      txtOwnerId: "lab",
      serviceMonitor: { enabled: true },
      // The ownership filter applies whatever the sources are.
      labelFilter: EXTERNAL_DNS_LABEL_FILTER,
    });
  });

  it("puts the given annotations (the token's rollout hash) on the pods", () => {
    expect(externalDnsValues(args())).not.toHaveProperty("podAnnotations");
    expect(externalDnsValues({ ...args(), podAnnotations: { [HASH_ANNOTATION]: "abc" } }).podAnnotations).toEqual({
      [HASH_ANNOTATION]: "abc",
    });
  });
});

describe("external-dns token builders", () => {
  const groups = [
    { id: "a", name: "Zone Read" },
    { id: "b", name: "DNS Write" },
    { id: "c", name: "Zone Write" },
  ];

  it("picks the named groups' ids in order, by exact name, and fails on one the lookup did not return", () => {
    expect(permissionGroupIds(groups, ["Zone Read", "DNS Write"])).toEqual(["a", "b"]);
    // Instead of minting a weaker token.
    expect(() => permissionGroupIds(groups, ["Zone Read", "DNS Edit"])).toThrow(
      "Cloudflare has no API token permission group named 'DNS Edit'",
    );
  });

  it("allows exactly the given groups on exactly one zone", () => {
    expect(externalDnsTokenPolicy(ZONE_ID, ["a", "b"])).toEqual({
      effect: "allow",
      permissionGroups: [{ id: "a" }, { id: "b" }],
      resources: JSON.stringify({ [`com.cloudflare.api.account.zone.${ZONE_ID}`]: "*" }),
    });
  });
});

describe("DNS ownership between the tunnel and external-dns", () => {
  it("the label filter skips objects carrying the tunnel-route label and reads everything else", () => {
    expect(selectorMatches(EXTERNAL_DNS_LABEL_FILTER, tunnelRouteLabels)).toBe(false);
    expect(selectorMatches(EXTERNAL_DNS_LABEL_FILTER, { app: "nas" })).toBe(true);
    expect(selectorMatches(EXTERNAL_DNS_LABEL_FILTER, {})).toBe(true);
  });

  it("refuses a hostname that is both a tunnel route and listed for external-dns, before creating anything", async () => {
    const error = await runProgramError({ config: { externalDns: { hostnames: ["grafana.example.com"] } } });
    expect(error.message).toMatch(
      /homecluster:externalDns\.hostnames\[0\]: grafana\.example\.com is a tunnel route \(homecluster:routes\[0\]\)/,
    );
    expect(error.registered.filter((r) => r.custom)).toEqual([]);
  });
});

describe("the ExternalDns component with the test stack's config (minted token)", () => {
  const run = sharedRun();

  it("installs the pinned chart in its own restricted namespace, not in the mesh", () => {
    expect(run().get(TYPES.namespace, "external-dns-namespace").inputs.metadata).toEqual({
      name: "external-dns",
      labels: { "pod-security.kubernetes.io/enforce": "restricted" },
    });
    expect(run().get(TYPES.release, "external-dns-release").inputs).toMatchObject({
      name: "external-dns",
      chart: "external-dns",
      version: "1.21.1",
      repositoryOpts: { repo: "https://kubernetes-sigs.github.io/external-dns" },
      namespace: "external-dns",
    });
  });

  it("gives the release the values externalDnsValues builds from the test stack's config, the token's hash on the pods", () => {
    const config = parsedConfig();
    const expected = externalDnsValues({
      externalDns: config.externalDns,
      domain: config.domain,
      zoneId: config.cloudflareZoneId,
      podAnnotations: { [HASH_ANNOTATION]: sha256(MOCK_MINTED_TOKEN) },
    });
    const release = run().get(TYPES.release, "external-dns-release");
    expect(release.inputs.values).toEqual(expected);
    // The hash stays plain, so the values stay visible in preview diffs.
    expect(isSecretAt(release.rawInputs, "values")).toBe(false);
  });

  it("mints a token allowed only Zone Read and DNS Write on this zone, with groups looked up through the provider", () => {
    const token = run().get(TYPES.apiToken, "external-dns-token");
    expect(token.inputs.name).toBe("external-dns homecluster-homecluster (example.com)");
    expect(token.inputs.policies).toEqual([externalDnsTokenPolicy(ZONE_ID, [ZONE_READ_ID, DNS_WRITE_ID])]);
    expect(
      run()
        .calls.filter((c) => c.token === PERMISSION_GROUPS)
        .map((c) => c.inputs),
    ).toEqual([{ scope: "com.cloudflare.api.account.zone" }]);
  });

  it("stores the minted token only in the Secret, as a secret", () => {
    const secret = run().get(TYPES.secret, "external-dns-token-secret");
    expect(secret.inputs.metadata).toEqual({ name: "cloudflare-api-token", namespace: "external-dns" });
    expect(secret.inputs.stringData).toEqual({ "api-token": MOCK_MINTED_TOKEN });
    expect(isSecretAt(secret.rawInputs, "stringData.api-token")).toBe(true);
    for (const resource of run().resources) {
      expect(plainOccurrences(resource.rawInputs, MOCK_MINTED_TOKEN), resource.name).toEqual([]);
      expect(plainOccurrences(resource.rawInputs, TEST_API_TOKEN), resource.name).toEqual([]);
    }
  });

  it("deploys after Cilium, its namespace, its Secret and Istio's CRDs only, not istiod or the rest", () => {
    const release = run().get(TYPES.release, "external-dns-release");
    expect([...release.dependencies].sort()).toEqual(
      [
        run().get(TYPES.release, "cilium-release"),
        run().get(TYPES.release, "istio-base"),
        run().get(TYPES.namespace, "external-dns-namespace"),
        run().get(TYPES.secret, "external-dns-token-secret"),
        // Through the token's hash in the values; the Secret already waits for it, so the deploy is no longer.
        run().get(TYPES.apiToken, "external-dns-token"),
      ]
        .map((r) => r.urn)
        .sort(),
    );
  });

  it("the label filter skips every Istio Gateway and VirtualService the stack creates for tunnel routes", () => {
    const routeObjects = [...run().all(TYPES.gateway), ...run().all(TYPES.virtualService)];
    expect(routeObjects.length).toBeGreaterThan(0);
    for (const object of routeObjects) {
      expect(selectorMatches(EXTERNAL_DNS_LABEL_FILTER, object.inputs.metadata.labels ?? {}), object.name).toBe(false);
    }
  });
});

describe("the ExternalDns component with an existing token, and no Istio source", () => {
  const run = sharedRun({
    secrets: { cloudflareApiToken: TEST_API_TOKEN, externalDnsApiToken: EXISTING_TOKEN },
    config: { externalDns: { hostnames: ["nas.example.com"], sources: ["service", "ingress"] } },
  });

  it("mints no token and looks up no permission groups", () => {
    expect(run().all(TYPES.apiToken)).toEqual([]);
    expect(run().calls.filter((c) => c.token === PERMISSION_GROUPS)).toEqual([]);
  });

  it("stores the given token in the Secret, as a secret, nowhere in plain text, and rolls the pods with it", () => {
    const secret = run().get(TYPES.secret, "external-dns-token-secret");
    expect(secret.inputs.stringData).toEqual({ "api-token": EXISTING_TOKEN });
    expect(isSecretAt(secret.rawInputs, "stringData.api-token")).toBe(true);
    for (const resource of run().resources) {
      expect(plainOccurrences(resource.rawInputs, EXISTING_TOKEN), resource.name).toEqual([]);
    }
    const values = run().get(TYPES.release, "external-dns-release").inputs.values;
    expect(values.podAnnotations).toEqual({ [HASH_ANNOTATION]: sha256(EXISTING_TOKEN) });
  });

  it("does not wait for Istio at all", () => {
    const release = run().get(TYPES.release, "external-dns-release");
    expect(run().dependsOn(release, run().get(TYPES.release, "cilium-release"))).toBe(true);
    expect(run().dependsOn(release, run().get(TYPES.release, "istio-base"))).toBe(false);
  });
});

describe("the ExternalDns component's providers", () => {
  let k8sProvider: k8s.Provider;
  let cilium: pulumi.ComponentResource;
  const componentArgs = () => ({
    ...args(),
    namespace: parsedConfig().namespaces.externalDns,
    version: "1.21.1",
    repository: defaultChartRepositories.externalDns,
    helm: { timeout: 600 },
    cilium,
    istioCrds: cilium,
    adopt: NO_ADOPTION,
  });
  beforeAll(async () => {
    await setBareMocks("homecluster");
    k8sProvider = new k8s.Provider("validation-k8s", { context: "test" });
    cilium = new pulumi.ComponentResource("test:index:Cilium", "validation-cilium");
  });

  it("requires explicit providers: Kubernetes always, Cloudflare when it mints the token", () => {
    const given = { ...componentArgs(), apiToken: pulumi.output("existing") };
    expect(() => new ExternalDns("edns-none", given)).toThrow("ExternalDns needs an explicit kubernetes provider");
    expect(() => new ExternalDns("edns-mint", componentArgs(), { providers: [k8sProvider] })).toThrow(
      "ExternalDns needs an explicit cloudflare provider",
    );
    expect(() => new ExternalDns("edns-given", given, { providers: [k8sProvider] })).not.toThrow();
  });
});
