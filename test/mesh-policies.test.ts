import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cloudflaredIdentity } from "../builders/cloudflared-workload";
import { principal } from "../model/identity";
import { ambientProbePolicy } from "../policies/ambient-probes";
import {
  allowNothing,
  cloudflaredToOriginAllow,
  configAllow,
  gatewayIngressAllow,
  gatewayToRouteAllow,
  plaintextAllow,
  sameNamespaceAllow,
} from "../policies/authorization";
import { meshPolicyObjects, routeAllow, type MeshPolicyInputs } from "../policies/mesh";
import { meshStrictMtls, mtlsException } from "../policies/peer-authentication";
import { serviceEntry } from "../policies/service-entries";
import { directRoute, gateway, gatewayRoute, normalised, parsedConfig } from "./support/fixtures";
import { runProgram, runProgramError, sharedRun, STACK, fixtureConfig, TYPES } from "./support/harness";
import { parseConfig } from "../config/load";
import type { MeshPolicy } from "../policies/mesh-policy";
import { mtlsExceptionNames } from "../model/mesh";

const GATEWAY_PRINCIPAL = "cluster.local/ns/istio-ingress/sa/istio-ingress";
const CLOUDFLARED_PRINCIPAL = "cluster.local/ns/cloudflared/sa/cloudflared";
const cloudflared = cloudflaredIdentity("cloudflared");

describe("peer authentication builders", () => {
  it("sets STRICT mTLS mesh-wide with the policy named default in the root namespace", () => {
    expect(meshStrictMtls("istio-system").object).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "istio-system" },
      spec: { mtls: { mode: "STRICT" } },
    });
  });

  it("makes an exception PERMISSIVE for a namespace, selected workloads, or their listed ports", () => {
    expect(mtlsException({ namespace: "legacy", ports: [] }).object).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "mtls-exception", namespace: "legacy" },
      spec: { mtls: { mode: "PERMISSIVE" } },
    });
    expect(mtlsException({ namespace: "legacy", ports: [], selector: { app: "nfs" } }).object.spec).toEqual({
      selector: { matchLabels: { app: "nfs" } },
      mtls: { mode: "PERMISSIVE" },
    });
    // Port-level: the rest of the workload stays STRICT (no mtls key: it inherits the mesh's mode).
    expect(
      mtlsException({ namespace: "monitoring", ports: [9100, 9090], selector: { app: "exporter" } }).object.spec,
    ).toEqual({
      selector: { matchLabels: { app: "exporter" } },
      portLevelMtls: { "9100": { mode: "PERMISSIVE" }, "9090": { mode: "PERMISSIVE" } },
    });
  });
});

describe("authorization builders", () => {
  it("spells principals with the default trust domain", () => {
    expect(principal(cloudflared)).toBe(CLOUDFLARED_PRINCIPAL);
  });

  it("denies by default with an empty ALLOW policy in the root namespace", () => {
    expect(allowNothing("istio-system").object).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-nothing", namespace: "istio-system" },
      spec: {},
    });
  });

  it("opens the gateway's HTTP port on the gateway pods only, without a principal (the gateway gets plaintext)", () => {
    expect(gatewayIngressAllow(gateway).object).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-http-ingress", namespace: "istio-ingress" },
      spec: {
        selector: { matchLabels: { app: "istio-ingress", istio: "ingressgateway" } },
        action: "ALLOW",
        rules: [{ to: [{ operation: { ports: ["80"] } }] }],
      },
    });
  });

  it("lets the gateway's identity reach a routed service's port, in the route's namespace", () => {
    expect(gatewayToRouteAllow(gatewayRoute("jellyfin", "media", 8096), gateway).object).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-gateway-to-jellyfin", namespace: "media" },
      spec: {
        action: "ALLOW",
        rules: [
          {
            from: [{ source: { principals: [GATEWAY_PRINCIPAL] } }],
            to: [{ operation: { ports: ["8096"] } }],
          },
        ],
      },
    });
    // The workload port, when the Service maps port 80 to another one.
    const grafana = gatewayToRouteAllow(gatewayRoute("grafana", "monitoring", 80, 3000), gateway).object;
    expect(grafana.spec.rules).toEqual([
      { from: [{ source: { principals: [GATEWAY_PRINCIPAL] } }], to: [{ operation: { ports: ["3000"] } }] },
    ]);
  });

  it("allows a namespace to itself", () => {
    expect(sameNamespaceAllow("media").object).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-same-namespace", namespace: "media" },
      spec: { action: "ALLOW", rules: [{ from: [{ source: { namespaces: ["media"] } }] }] },
    });
  });

  it("turns a config allow into a principal (with a service account) or a namespace source, to its ports", () => {
    expect(
      configAllow({
        from: { namespace: "monitoring", serviceAccount: "prometheus" },
        to: { namespace: "media", ports: [9090, 8096] },
      }).object,
    ).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-from-monitoring.prometheus", namespace: "media" },
      spec: {
        action: "ALLOW",
        rules: [
          {
            from: [{ source: { principals: ["cluster.local/ns/monitoring/sa/prometheus"] } }],
            to: [{ operation: { ports: ["9090", "8096"] } }],
          },
        ],
      },
    });
    expect(
      configAllow({ from: { namespace: "backup" }, to: { namespace: "data", ports: [5432] } }).object.spec.rules,
    ).toEqual([{ from: [{ source: { namespaces: ["backup"] } }], to: [{ operation: { ports: ["5432"] } }] }]);
  });

  it("lets unauthenticated clients through an mTLS exception under the default deny", () => {
    expect(plaintextAllow({ namespace: "legacy", ports: [] }).object).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-plaintext", namespace: "legacy" },
      spec: { action: "ALLOW", rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }] },
    });
    const exporter = plaintextAllow({ namespace: "monitoring", ports: [9100], selector: { app: "exporter" } }).object;
    expect(exporter.metadata.name).toBe("allow-plaintext-exporter");
    expect(exporter.spec).toEqual({
      selector: { matchLabels: { app: "exporter" } },
      action: "ALLOW",
      rules: [{ from: [{ source: { notPrincipals: ["*"] } }], to: [{ operation: { ports: ["9100"] } }] }],
    });
  });
});

describe("cloudflared's allow to a direct origin", () => {
  it("lets cloudflared's identity reach an in-cluster origin's port", () => {
    const ssh = directRoute("ssh", "ssh://bastion.infra.svc.cluster.local:22");
    expect(cloudflaredToOriginAllow(ssh, ssh.backend!, cloudflared).object).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-cloudflared-to-ssh", namespace: "infra" },
      spec: {
        action: "ALLOW",
        rules: [
          { from: [{ source: { principals: [CLOUDFLARED_PRINCIPAL] } }], to: [{ operation: { ports: ["22"] } }] },
        ],
      },
    });
  });

  it("matches the container port when the route gives targetPort", () => {
    const db = directRoute("db", "tcp://postgres.data.svc:5432", 15432);
    expect(cloudflaredToOriginAllow(db, db.backend!, cloudflared).object.spec.rules).toEqual([
      { from: [{ source: { principals: [CLOUDFLARED_PRINCIPAL] } }], to: [{ operation: { ports: ["15432"] } }] },
    ]);
  });
});

describe("Cilium probe policy and ServiceEntries", () => {
  it("allows ambient's SNATed probes into every endpoint without turning on Cilium's default deny", () => {
    expect(ambientProbePolicy("allow-ambient-probes")).toEqual({
      apiVersion: "cilium.io/v2",
      kind: "CiliumClusterwideNetworkPolicy",
      metadata: { name: "allow-ambient-probes" },
      spec: {
        description: "Allows kubelet health probes, SNATed by Istio ambient, into every pod",
        endpointSelector: {},
        enableDefaultDeny: { ingress: false, egress: false },
        ingress: [{ fromCIDR: ["169.254.7.127/32"] }],
      },
    });
  });

  it("registers an external service as MESH_EXTERNAL", () => {
    expect(
      serviceEntry({
        name: "github",
        namespace: "istio-system",
        hosts: ["github.com"],
        ports: [{ number: 443, protocol: "TLS", name: "tls" }],
        resolution: "DNS",
      }).object,
    ).toEqual({
      apiVersion: "networking.istio.io/v1",
      kind: "ServiceEntry",
      metadata: { name: "github", namespace: "istio-system" },
      spec: {
        hosts: ["github.com"],
        location: "MESH_EXTERNAL",
        ports: [{ number: 443, name: "tls", protocol: "TLS" }],
        resolution: "DNS",
      },
    });
  });
});

describe("meshPolicyObjects", () => {
  const inputs: MeshPolicyInputs = {
    istio: parsedConfig({
      istio: {
        meshNamespaces: ["monitoring", "media", "infra"],
        mtlsExceptions: [{ namespace: "media", selector: { app: "jellyfin" }, ports: [8096] }],
        allow: [{ from: { namespace: "monitoring" }, to: { namespace: "media", ports: [9090] } }],
        serviceEntries: [
          { name: "github", hosts: ["github.com"], ports: [{ number: 443, protocol: "TLS", name: "tls" }] },
        ],
      },
    }).istio,
    routes: normalised([
      { kind: "gateway", host: "grafana", service: "grafana", namespace: "monitoring", port: 80, targetPort: 3000 },
      { kind: "direct", host: "ssh", origin: "ssh://bastion.infra.svc.cluster.local:22", access: "admins" },
      { kind: "direct", host: "nas", origin: "http://192.168.1.10:5000" },
    ]),
    gateway,
    cloudflared,
  };

  it("builds every policy under the default deny, in this order", () => {
    const objects = meshPolicyObjects(inputs);
    expect(objects.map((o) => [o.key, o.object.kind, o.object.metadata.namespace, o.object.metadata.name])).toEqual([
      ["mtls-strict", "PeerAuthentication", "istio-system", "default"],
      ["mtls-exception-jellyfin-media", "PeerAuthentication", "media", "mtls-exception-jellyfin"],
      ["allow-nothing", "AuthorizationPolicy", "istio-system", "allow-nothing"],
      ["allow-http-ingress", "AuthorizationPolicy", "istio-ingress", "allow-http-ingress"],
      ["allow-gateway-to-grafana", "AuthorizationPolicy", "monitoring", "allow-gateway-to-grafana"],
      ["allow-cloudflared-to-ssh", "AuthorizationPolicy", "infra", "allow-cloudflared-to-ssh"],
      ["allow-same-namespace-monitoring", "AuthorizationPolicy", "monitoring", "allow-same-namespace"],
      ["allow-same-namespace-media", "AuthorizationPolicy", "media", "allow-same-namespace"],
      ["allow-same-namespace-infra", "AuthorizationPolicy", "infra", "allow-same-namespace"],
      ["allow-from-monitoring-to-media", "AuthorizationPolicy", "media", "allow-from-monitoring"],
      ["allow-plaintext-jellyfin-media", "AuthorizationPolicy", "media", "allow-plaintext-jellyfin"],
      ["service-entry-istio-system-github", "ServiceEntry", "istio-system", "github"],
    ]);
  });

  it("gives each route the allow to its backend: from the gateway, from cloudflared, or none", () => {
    const [grafana, ssh, nas] = inputs.routes;
    // grafana's Service maps port 80 to 3000: the allow names the pods' port.
    expect(routeAllow(grafana!, gateway, cloudflared)).toEqual({
      key: "allow-gateway-to-grafana",
      object: {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: "allow-gateway-to-grafana", namespace: "monitoring" },
        spec: {
          action: "ALLOW",
          rules: [
            { from: [{ source: { principals: [GATEWAY_PRINCIPAL] } }], to: [{ operation: { ports: ["3000"] } }] },
          ],
        },
      },
    });
    expect(routeAllow(ssh!, gateway, cloudflared)?.object).toMatchObject({
      metadata: { name: "allow-cloudflared-to-ssh", namespace: "infra" },
      spec: {
        rules: [
          { from: [{ source: { principals: [CLOUDFLARED_PRINCIPAL] } }], to: [{ operation: { ports: ["22"] } }] },
        ],
      },
    });
    // An origin outside the cluster has no workload here to protect.
    expect(routeAllow(nas!, gateway, cloudflared)).toBeUndefined();
    const outside = normalised([
      { kind: "gateway", host: "wiki", service: "wiki", namespace: "legacy", port: 80, mesh: false },
      { kind: "direct", host: "nfs", origin: "tcp://nfs.storage.svc:2049", mesh: false, public: true },
    ]);
    expect(outside.map((route) => routeAllow(route, gateway, cloudflared))).toEqual([undefined, undefined]);
  });

  it("creates no allows without the default deny (an ALLOW policy would itself deny the rest)", () => {
    const objects = meshPolicyObjects({ ...inputs, istio: { ...inputs.istio, defaultDeny: false } });
    expect(objects.map((o) => o.key)).toEqual([
      "mtls-strict",
      "mtls-exception-jellyfin-media",
      "service-entry-istio-system-github",
    ]);
  });

  it("leaves out same-namespace allows when config turns them off", () => {
    const keys = meshPolicyObjects({ ...inputs, istio: { ...inputs.istio, allowSameNamespace: false } }).map(
      (o) => o.key,
    );
    expect(keys.filter((k) => k.startsWith("allow-same-namespace"))).toEqual([]);
    expect(keys).toContain("allow-nothing");
  });
});

/** Keys that occur more than once, and (kind, namespace, name) triples that do: what would collide. */
function collisions(policies: readonly MeshPolicy[]): { keys: string[]; objects: string[] } {
  const repeated = (list: string[]) => [...new Set(list.filter((item, index) => list.indexOf(item) !== index))];
  return {
    keys: repeated(policies.map((p) => p.key)),
    objects: repeated(policies.map(({ object: o }) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)),
  };
}

const BASE = fixtureConfig();
/** The test stack with this Istio section and these routes, through the whole config gate. */
function policiesOf(istio: Record<string, unknown>, routes: Record<string, unknown>[]): MeshPolicy[] {
  const config = parseConfig({ ...BASE, istio, routes }, STACK);
  return meshPolicyObjects({ istio: config.istio, routes: config.routes, gateway, cloudflared });
}

describe("mesh policy keys and names", () => {
  it("are unique across a config with every kind of policy, several of each, in many namespaces", () => {
    const namespaces = ["monitoring", "media", "infra", "data", "apps"];
    const tls = [{ number: 443, protocol: "TLS", name: "tls" }];
    const policies = policiesOf(
      {
        meshNamespaces: namespaces,
        mtlsExceptions: [
          { namespace: "media" },
          { namespace: "media", selector: { app: "jellyfin" }, ports: [8096] },
          { namespace: "monitoring", selector: { app: "exporter" }, ports: [9100] },
        ],
        allow: [
          {
            from: { namespace: "monitoring", serviceAccount: "prometheus" },
            to: { namespace: "media", ports: [8096] },
          },
          { from: { namespace: "monitoring" }, to: { namespace: "data", ports: [5432] } },
          { from: { namespace: "apps" }, to: { namespace: "data", ports: [5432, 6379] } },
        ],
        // The same name in two namespaces is two ServiceEntries.
        serviceEntries: [
          { name: "github", hosts: ["github.com"], ports: tls },
          { name: "github", namespace: "apps", hosts: ["github.com"], ports: tls },
          { name: "registry", namespace: "apps", hosts: ["ghcr.io"], ports: tls },
        ],
      },
      [
        { host: "grafana", service: "grafana", namespace: "monitoring", port: 80, targetPort: 3000 },
        { host: "@", service: "homepage", namespace: "media", port: 3000 },
        { host: "*", service: "fallback", namespace: "apps", port: 80 },
        { host: "*.lab", service: "lab", namespace: "apps", port: 80 },
        { host: "wiki", namespace: "apps" },
        { host: "db", origin: "tcp://postgres.data.svc:5432", public: true },
        { host: "cache", origin: "tcp://redis.data.svc.cluster.local:6379", public: true },
        { host: "ssh", origin: "ssh://bastion.infra.svc.cluster.local:22", access: "admins" },
      ],
    );
    // 1 STRICT + 3 exceptions, the deny, the gateway's port, 7 route allows (not the app stack's wiki), 5 namespaces,
    // 3 config allows, 3 plaintext allows, 3 ServiceEntries.
    expect(policies).toHaveLength(27);
    expect(collisions(policies)).toEqual({ keys: [], objects: [] });
  });

  it("are unique for any valid Istio section and routes", () => {
    // Hyphens on both sides: `a-b/c` and `a/b-c` meet on one key, a pair the gate must refuse (this property found it).
    const namespace = fc.constantFrom("monitoring", "media", "infra", "a", "a-b", "b");
    const entryName = fc.constantFrom("c", "github", "b", "a", "b-c");
    const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,4}[a-z0-9])?$/);
    const section = fc.uniqueArray(namespace, { minLength: 1, maxLength: 6 }).chain((mesh) => {
      const enrolled = fc.constantFrom(...mesh);
      const port = fc.integer({ min: 1, max: 65535 });
      return fc.record({
        meshNamespaces: fc.constant(mesh),
        mtlsExceptions: fc.array(
          fc.oneof(
            enrolled.map((ns) => ({ namespace: ns })),
            fc.tuple(enrolled, port).map(([ns, p]) => ({ namespace: ns, selector: { app: "x" }, ports: [p] })),
          ),
          { maxLength: 3 },
        ),
        allow: fc.array(
          fc.tuple(enrolled, enrolled, port).map(([from, to, p]) => ({
            from: { namespace: from },
            to: { namespace: to, ports: [p] },
          })),
          { maxLength: 3 },
        ),
        serviceEntries: fc.uniqueArray(
          fc.tuple(fc.constantFrom("istio-system", ...mesh), entryName).map(([ns, name]) => ({
            name,
            namespace: ns,
            hosts: ["github.com"],
            ports: [{ number: 443, protocol: "TLS", name: "tls" }],
          })),
          { selector: (e) => `${e.namespace}/${e.name}`, maxLength: 4 },
        ),
        routes: fc.uniqueArray(
          fc
            .tuple(label, enrolled, port, fc.boolean())
            .map(([host, ns, p, direct]) =>
              direct
                ? { host, origin: `tcp://svc.${ns}.svc:${p}`, public: true }
                : { host, service: host, namespace: ns, port: p },
            ),
          { selector: (r) => r.host, maxLength: 5 },
        ),
      });
    });
    fc.assert(
      fc.property(section, fc.boolean(), ({ routes, ...istio }, allowSameNamespace) => {
        // What each entry is (every selector here is the same): two alike are one entry written twice, which the gate
        // refuses like two names meeting.
        const repeats = (keys: string[]) => new Set(keys).size < keys.length;
        const refused =
          repeats(istio.serviceEntries.map((e) => `service-entry-${e.namespace}-${e.name}`)) ||
          repeats(istio.allow.map((a) => `${a.from.namespace} → ${a.to.namespace}`)) ||
          repeats(istio.mtlsExceptions.map((e) => `${e.namespace} ${"selector" in e}`));
        if (refused) {
          expect(() => policiesOf({ ...istio, allowSameNamespace }, routes)).toThrow(
            /would share the resource name|merge their/,
          );
          return;
        }
        const policies = policiesOf({ ...istio, allowSameNamespace }, routes);
        expect(collisions(policies)).toEqual({ keys: [], objects: [] });
      }),
      { numRuns: 100 },
    );
  });
});

describe("names that survive an edit", () => {
  const namespaces = ["monitoring", "media", "data"];
  const tls = [{ number: 443, protocol: "TLS", name: "tls" }];
  const section = {
    meshNamespaces: namespaces,
    mtlsExceptions: [{ namespace: "media", selector: { app: "nfs" }, ports: [2049] }],
    allow: [{ from: { namespace: "monitoring" }, to: { namespace: "media", ports: [9090] } }],
    serviceEntries: [{ name: "github", hosts: ["github.com"], ports: tls }],
  };
  const routes = [{ host: "grafana", service: "grafana", namespace: "monitoring", port: 80, targetPort: 3000 }];
  const byKey = (policies: MeshPolicy[]) => new Map(policies.map((p) => [p.key, p.object]));

  it("inserting an entry at the top of each list adds its policies and leaves every other one as it was", () => {
    const before = byKey(policiesOf(section, routes));
    const after = byKey(
      policiesOf(
        {
          ...section,
          mtlsExceptions: [{ namespace: "data" }, ...section.mtlsExceptions],
          allow: [
            { from: { namespace: "data", serviceAccount: "backup" }, to: { namespace: "media", ports: [22] } },
            ...section.allow,
          ],
          serviceEntries: [
            { name: "registry", namespace: "data", hosts: ["ghcr.io"], ports: tls },
            ...section.serviceEntries,
          ],
        },
        [{ host: "wiki", service: "wiki", namespace: "data", port: 80 }, ...routes],
      ),
    );
    for (const [key, object] of before) expect(after.get(key), key).toEqual(object);
    expect([...after.keys()].filter((key) => !before.has(key)).sort()).toEqual(
      [
        "allow-from-data.backup-to-media",
        "allow-gateway-to-wiki",
        "allow-plaintext-data",
        "mtls-exception-data",
        "service-entry-data-registry",
      ].sort(),
    );
  });

  it("names an mTLS exception by its selector's values, in the order of their keys, as a name can spell them", () => {
    const names = mtlsExceptionNames({ namespace: "media", selector: { tier: "NFS_v4", app: "nas" } });
    expect(names).toEqual({
      peerAuthentication: { name: "mtls-exception-nas-nfs-v4", key: "mtls-exception-nas-nfs-v4-media" },
      plaintextAllow: { name: "allow-plaintext-nas-nfs-v4", key: "allow-plaintext-nas-nfs-v4-media" },
    });
  });

  it("refuses an entry written twice, and two entries whose names meet, naming the key", () => {
    const twice = (istio: Record<string, unknown>) => () => policiesOf({ ...section, ...istio }, routes);
    expect(
      twice({ allow: [...section.allow, { ...section.allow[0], to: { namespace: "media", ports: [80] } }] }),
    ).toThrow(
      "homecluster:istio.allow[1].from: 'monitoring' → 'media' is already istio.allow[0]; merge their ports into one entry",
    );
    expect(
      twice({ mtlsExceptions: [...section.mtlsExceptions, { namespace: "media", selector: { app: "NFS" } }] }),
    ).toThrow(
      `homecluster:istio.mtlsExceptions[1].selector: 'media' {"app":"NFS"} and istio.mtlsExceptions[0] ('media' {"app":"nfs"}) would share the resource name mtls-exception-nfs-media; rename one`,
    );
  });
});

describe("the MeshPolicies component with the test stack's config", () => {
  const run = sharedRun();
  const policyTypes = [TYPES.authorizationPolicy, TYPES.peerAuthentication, TYPES.serviceEntry];
  // The gateway's Access check (routes-access-*) belongs to IngressRoutes.
  const registered = () =>
    run().resources.filter(
      (r) => policyTypes.includes(r.type as (typeof policyTypes)[number]) && r.name.startsWith("mesh-"),
    );

  it("registers the test stack's config's policies, each as mesh-<key> with the object its builder makes", () => {
    expect(
      registered()
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "mesh-allow-cloudflared-to-ssh",
      "mesh-allow-from-monitoring.prometheus-to-media",
      "mesh-allow-gateway-to-apex",
      "mesh-allow-gateway-to-grafana",
      "mesh-allow-gateway-to-jellyfin",
      "mesh-allow-http-ingress",
      "mesh-allow-nothing",
      "mesh-allow-same-namespace-infra",
      "mesh-allow-same-namespace-media",
      "mesh-allow-same-namespace-monitoring",
      "mesh-mtls-strict",
    ]);
    const config = parsedConfig();
    const objects = meshPolicyObjects({ istio: config.istio, routes: config.routes, gateway, cloudflared });
    for (const { key, object } of objects) {
      const resource = run().resources.find((r) => r.name === `mesh-${key}`)!;
      expect(resource.inputs, key).toEqual(object);
    }
  });

  it("applies them after Istio's CRDs only; objects in the gateway namespace also wait for it", () => {
    const base = run().get(TYPES.release, "istio-base");
    const istiod = run().get(TYPES.release, "istio-istiod");
    const gatewayNamespace = run().get(TYPES.namespace, "istio-gateway-namespace");
    for (const policy of registered()) {
      expect(run().dependsOn(policy, base), policy.name).toBe(true);
      expect(run().dependsOn(policy, istiod), policy.name).toBe(false);
      const inGatewayNamespace = policy.inputs.metadata.namespace === "istio-ingress";
      expect(run().dependsOn(policy, gatewayNamespace), policy.name).toBe(inGatewayNamespace);
    }
  });

  it("creates the ambient probe policy after the Cilium release", () => {
    const probes = run().get(TYPES.clusterwidePolicy, "mesh-ambient-probes");
    expect(probes.inputs).toEqual(ambientProbePolicy("allow-ambient-probes"));
    expect(run().dependsOn(probes, run().get(TYPES.release, "cilium-release"))).toBe(true);
  });

  it("enrols the configured namespaces and cloudflared's after istio-cni and ztunnel, not the gateway's", () => {
    const patches = run().all(TYPES.namespacePatch);
    expect(patches.map((p) => p.inputs.metadata)).toEqual(
      ["monitoring", "media", "infra", "cloudflared"].map((name) => ({
        name,
        labels: { "istio.io/dataplane-mode": "ambient" },
      })),
    );
    for (const patch of patches) {
      expect(run().dependsOn(patch, run().get(TYPES.release, "istio-cni"))).toBe(true);
      expect(run().dependsOn(patch, run().get(TYPES.release, "istio-ztunnel"))).toBe(true);
    }
    // A configured namespace's patch takes its name from a read of that namespace: a server-side apply patch would
    // create a namespace that does not exist, the read fails the preview instead.
    for (const ns of ["monitoring", "media", "infra"]) {
      const existing = run().get(TYPES.namespace, `mesh-namespace-${ns}`);
      expect(existing.read).toEqual({ id: ns });
      expect(run().dependsOn(run().get(TYPES.namespacePatch, `mesh-enrol-${ns}`), existing)).toBe(true);
    }
    // cloudflared's patch takes the name from the tunnel's Namespace, so it waits for it.
    const cloudflaredPatch = run().get(TYPES.namespacePatch, "mesh-enrol-cloudflared");
    expect(run().dependsOn(cloudflaredPatch, run().get(TYPES.namespace, "tunnel-namespace"))).toBe(true);
    expect(run().output("meshNamespaces")).toEqual(["monitoring", "media", "infra", "cloudflared"]);
  });
});

describe("cloudflared in its own namespace 'tunnel' while a mesh namespace is called 'cloudflared'", () => {
  it("enrols both, each patch named after its namespace", async () => {
    const run = await runProgram({
      config: {
        istio: {
          ...(fixtureConfig().istio as object),
          meshNamespaces: ["monitoring", "media", "infra", "cloudflared"],
        },
        tunnel: { ...(fixtureConfig().tunnel as object), cloudflared: { namespace: "tunnel" } },
      },
    });
    expect(
      run
        .all(TYPES.namespacePatch)
        .map((p) => [p.name, p.inputs.metadata.name])
        .sort(),
    ).toEqual([
      ["mesh-enrol-cloudflared", "cloudflared"],
      ["mesh-enrol-infra", "infra"],
      ["mesh-enrol-media", "media"],
      ["mesh-enrol-monitoring", "monitoring"],
      ["mesh-enrol-tunnel", "tunnel"],
    ]);
  });
});

describe("the MeshPolicies component with the default deny off", () => {
  it("creates no allows, and keeps STRICT mTLS and the (additive) probe policy", async () => {
    const run = await runProgram({
      config: { istio: { meshNamespaces: ["monitoring", "media", "infra"], defaultDeny: false } },
    });
    expect(run.all(TYPES.authorizationPolicy).filter((p) => p.name.startsWith("mesh-"))).toEqual([]);
    expect(run.get(TYPES.clusterwidePolicy, "mesh-ambient-probes").inputs).toEqual(
      ambientProbePolicy("allow-ambient-probes"),
    );
    expect(run.get(TYPES.peerAuthentication, "mesh-mtls-strict").inputs.spec).toEqual({ mtls: { mode: "STRICT" } });
  });
});

describe("mTLS exceptions in config", () => {
  const istio = { meshNamespaces: ["monitoring", "media", "infra"] };

  it("with ports but no selector fail, naming the key", async () => {
    const error = await runProgramError({
      config: { istio: { ...istio, mtlsExceptions: [{ namespace: "media", ports: [8080] }] } },
    });
    expect(error.message).toMatch(/homecluster:istio\.mtlsExceptions\[0\]\.ports: need a selector/);
  });

  it("with an empty selector fail, naming the key", async () => {
    const error = await runProgramError({
      config: { istio: { ...istio, mtlsExceptions: [{ namespace: "media", selector: {} }] } },
    });
    expect(error.message).toMatch(/homecluster:istio\.mtlsExceptions\[0\]\.selector: must name at least one label/);
  });
});
