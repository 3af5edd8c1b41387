import { describe, expect, it } from "vitest";
import { meshPolicyObjects, type MeshPolicySettings } from "../components/mesh-policies";
import {
  allowNothing,
  cloudflaredToOriginAllow,
  configAllow,
  gatewayIngressAllow,
  gatewayToRouteAllow,
  plaintextAllow,
  principal,
  sameNamespaceAllow,
} from "../policies/authorization";
import { ambientProbePolicy } from "../policies/cilium";
import { meshStrictMtls, mtlsException } from "../policies/peer-authentication";
import { serviceEntry } from "../policies/service-entries";
import { directRoute, gatewayRoute, gatewayService, normalised } from "./fixtures";
import { AUTHORIZATION_POLICY, NAMESPACE, RELEASE, runProgram, runProgramError, sharedRun } from "./harness";

const PEER_AUTHN = "kubernetes:security.istio.io/v1:PeerAuthentication";
const SERVICE_ENTRY = "kubernetes:networking.istio.io/v1:ServiceEntry";
const CCNP = "kubernetes:cilium.io/v2:CiliumClusterwideNetworkPolicy";
const NAMESPACE_PATCH = "kubernetes:core/v1:NamespacePatch";

const GATEWAY_PRINCIPAL = "cluster.local/ns/istio-ingress/sa/istio-ingress";
const CLOUDFLARED_PRINCIPAL = "cluster.local/ns/cloudflared/sa/cloudflared";

const cloudflared = { namespace: "cloudflared", serviceAccount: "cloudflared" };

describe("peer authentication builders", () => {
  it("sets STRICT mTLS mesh-wide with the policy named default in the root namespace", () => {
    expect(meshStrictMtls("istio-system")).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "istio-system" },
      spec: { mtls: { mode: "STRICT" } },
    });
  });

  it("makes an exception PERMISSIVE for a namespace, selected workloads, or their listed ports", () => {
    expect(mtlsException({ namespace: "legacy", ports: [] }, 0)).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "mtls-exception-0", namespace: "legacy" },
      spec: { mtls: { mode: "PERMISSIVE" } },
    });
    expect(mtlsException({ namespace: "legacy", ports: [], selector: { app: "nfs" } }, 1).spec).toEqual({
      selector: { matchLabels: { app: "nfs" } },
      mtls: { mode: "PERMISSIVE" },
    });
    // Port-level: the rest of the workload stays STRICT (no mtls key: it inherits the mesh's mode).
    expect(
      mtlsException({ namespace: "monitoring", ports: [9100, 9090], selector: { app: "exporter" } }, 2).spec,
    ).toEqual({
      selector: { matchLabels: { app: "exporter" } },
      portLevelMtls: { "9100": { mode: "PERMISSIVE" }, "9090": { mode: "PERMISSIVE" } },
    });
  });

  it("refuses port-level mTLS without a selector (the CRD rejects it)", () => {
    expect(() => mtlsException({ namespace: "legacy", ports: [8080] }, 3)).toThrow(
      /exception 3 \(legacy\).*no selector/,
    );
  });
});

describe("authorization builders", () => {
  it("spells principals with the default trust domain", () => {
    expect(principal(cloudflared)).toBe(CLOUDFLARED_PRINCIPAL);
  });

  it("denies by default with an empty ALLOW policy in the root namespace", () => {
    expect(allowNothing("istio-system")).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-nothing", namespace: "istio-system" },
      spec: {},
    });
  });

  it("opens the gateway's HTTP port on the gateway pods only, without a principal (the gateway gets plaintext)", () => {
    expect(
      gatewayIngressAllow({ namespace: "istio-ingress", selector: gatewayService.selector, httpPort: 80 }),
    ).toEqual({
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
    const gateway = { namespace: "istio-ingress", serviceAccount: "istio-ingress" };
    expect(gatewayToRouteAllow(gatewayRoute("jellyfin", "media", 8096), gateway)).toEqual({
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
    const grafana = gatewayToRouteAllow(gatewayRoute("grafana", "monitoring", 80, 3000), gateway);
    expect(grafana.spec.rules).toEqual([
      { from: [{ source: { principals: [GATEWAY_PRINCIPAL] } }], to: [{ operation: { ports: ["3000"] } }] },
    ]);
  });

  it("allows a namespace to itself", () => {
    expect(sameNamespaceAllow("media")).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-same-namespace", namespace: "media" },
      spec: { action: "ALLOW", rules: [{ from: [{ source: { namespaces: ["media"] } }] }] },
    });
  });

  it("turns a config allow into a principal (with a service account) or a namespace source, to its ports", () => {
    expect(
      configAllow(
        {
          from: { namespace: "monitoring", serviceAccount: "prometheus" },
          to: { namespace: "media", ports: [9090, 8096] },
        },
        0,
      ),
    ).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-config-0", namespace: "media" },
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
      configAllow({ from: { namespace: "backup" }, to: { namespace: "data", ports: [5432] } }, 4).spec.rules,
    ).toEqual([{ from: [{ source: { namespaces: ["backup"] } }], to: [{ operation: { ports: ["5432"] } }] }]);
  });

  it("lets unauthenticated clients through an mTLS exception under the default deny", () => {
    expect(plaintextAllow({ namespace: "legacy", ports: [] }, 0)).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-plaintext-0", namespace: "legacy" },
      spec: { action: "ALLOW", rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }] },
    });
    expect(plaintextAllow({ namespace: "monitoring", ports: [9100], selector: { app: "exporter" } }, 1).spec).toEqual({
      selector: { matchLabels: { app: "exporter" } },
      action: "ALLOW",
      rules: [{ from: [{ source: { notPrincipals: ["*"] } }], to: [{ operation: { ports: ["9100"] } }] }],
    });
  });
});

describe("cloudflared's allow to a direct origin", () => {
  it("lets cloudflared's identity reach an in-cluster origin's port", () => {
    const ssh = directRoute("ssh", "ssh://bastion.infra.svc.cluster.local:22");
    expect(cloudflaredToOriginAllow({ ...ssh, inCluster: ssh.inCluster! }, cloudflared)).toEqual({
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
    expect(cloudflaredToOriginAllow({ ...db, inCluster: db.inCluster! }, cloudflared).spec.rules).toEqual([
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
      }),
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
  const settings: MeshPolicySettings = {
    defaultDeny: true,
    allowSameNamespace: true,
    meshNamespaces: ["monitoring", "media"],
    mtlsExceptions: [{ namespace: "legacy", ports: [] }],
    allow: [{ from: { namespace: "monitoring" }, to: { namespace: "media", ports: [9090] } }],
    serviceEntries: [
      {
        name: "github",
        namespace: "istio-system",
        hosts: ["github.com"],
        ports: [{ number: 443, protocol: "TLS", name: "tls" }],
        resolution: "DNS",
      },
    ],
    routes: [
      gatewayRoute("grafana", "monitoring", 80, 3000),
      directRoute("ssh", "ssh://bastion.infra.svc.cluster.local:22"),
      directRoute("nas", "http://192.168.1.10:5000"),
    ],
    gateway: gatewayService,
    cloudflared,
  };

  it("builds every policy under the default deny, each with a unique key", () => {
    const objects = meshPolicyObjects(settings);
    expect(objects.map((o) => [o.key, o.object.kind, o.object.metadata.namespace, o.object.metadata.name])).toEqual([
      ["mtls-strict", "PeerAuthentication", "istio-system", "default"],
      ["mtls-exception-0", "PeerAuthentication", "legacy", "mtls-exception-0"],
      ["allow-nothing", "AuthorizationPolicy", "istio-system", "allow-nothing"],
      ["allow-http-ingress", "AuthorizationPolicy", "istio-ingress", "allow-http-ingress"],
      ["allow-gateway-to-grafana", "AuthorizationPolicy", "monitoring", "allow-gateway-to-grafana"],
      ["allow-cloudflared-to-ssh", "AuthorizationPolicy", "infra", "allow-cloudflared-to-ssh"],
      ["allow-same-namespace-monitoring", "AuthorizationPolicy", "monitoring", "allow-same-namespace"],
      ["allow-same-namespace-media", "AuthorizationPolicy", "media", "allow-same-namespace"],
      ["allow-config-0", "AuthorizationPolicy", "media", "allow-config-0"],
      ["allow-plaintext-0", "AuthorizationPolicy", "legacy", "allow-plaintext-0"],
      ["service-entry-istio-system-github", "ServiceEntry", "istio-system", "github"],
    ]);
  });

  it("gives routes kept outside the mesh (mesh: false) no allow", () => {
    const outside = normalised([
      { kind: "gateway", host: "wiki", service: "wiki", namespace: "legacy", port: 80, mesh: false },
      { kind: "direct", host: "nfs", origin: "tcp://nfs.storage.svc:2049", mesh: false },
    ]);
    const keys = meshPolicyObjects({ ...settings, routes: outside }).map((o) => o.key);
    expect(keys.filter((k) => k.includes("-to-"))).toEqual([]);
  });

  it("creates no allows without the default deny (an ALLOW policy would itself deny the rest)", () => {
    const objects = meshPolicyObjects({ ...settings, defaultDeny: false });
    expect(objects.map((o) => o.key)).toEqual(["mtls-strict", "mtls-exception-0", "service-entry-istio-system-github"]);
  });

  it("leaves out same-namespace allows when config turns them off", () => {
    const keys = meshPolicyObjects({ ...settings, allowSameNamespace: false }).map((o) => o.key);
    expect(keys.filter((k) => k.startsWith("allow-same-namespace"))).toEqual([]);
    expect(keys).toContain("allow-nothing");
  });
});

describe("MeshPolicies under mocks with the committed config", () => {
  const run = sharedRun();
  const authz = (key: string) => run().get(AUTHORIZATION_POLICY, `mesh-${key}`);

  it("sets STRICT mTLS in the root namespace", () => {
    expect(run().get(PEER_AUTHN, "mesh-mtls-strict").inputs).toMatchObject({
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "istio-system" },
      spec: { mtls: { mode: "STRICT" } },
    });
  });

  it("denies by default", () => {
    expect(authz("allow-nothing").inputs).toMatchObject({
      metadata: { name: "allow-nothing", namespace: "istio-system" },
      spec: {},
    });
  });

  it("has one allow per gateway route naming the gateway's identity and the route's (target) port", () => {
    const expected = [
      ["grafana", "monitoring", "3000"],
      ["jellyfin", "media", "8096"],
      ["apex", "media", "3000"],
    ];
    for (const [route, namespace, port] of expected) {
      expect(authz(`allow-gateway-to-${route}`).inputs).toMatchObject({
        metadata: { name: `allow-gateway-to-${route}`, namespace },
        spec: {
          action: "ALLOW",
          rules: [{ from: [{ source: { principals: [GATEWAY_PRINCIPAL] } }], to: [{ operation: { ports: [port] } }] }],
        },
      });
    }
    expect(
      run()
        .all(AUTHORIZATION_POLICY)
        .filter((r) => r.name.startsWith("mesh-allow-gateway-to-")),
    ).toHaveLength(3);
  });

  it("opens the gateway's HTTP port and lets cloudflared reach the in-cluster direct origin", () => {
    expect(authz("allow-http-ingress").inputs.spec).toEqual({
      selector: { matchLabels: { app: "istio-ingress", istio: "ingressgateway" } },
      action: "ALLOW",
      rules: [{ to: [{ operation: { ports: ["80"] } }] }],
    });
    expect(authz("allow-cloudflared-to-ssh").inputs).toMatchObject({
      metadata: { namespace: "infra" },
      spec: {
        rules: [
          { from: [{ source: { principals: [CLOUDFLARED_PRINCIPAL] } }], to: [{ operation: { ports: ["22"] } }] },
        ],
      },
    });
  });

  it("allows same-namespace traffic in each configured mesh namespace", () => {
    for (const ns of ["monitoring", "media"]) {
      expect(authz(`allow-same-namespace-${ns}`).inputs).toMatchObject({
        metadata: { name: "allow-same-namespace", namespace: ns },
        spec: { rules: [{ from: [{ source: { namespaces: [ns] } }] }] },
      });
    }
  });

  it("turns the committed explicit allow into a policy from prometheus' identity to media's port", () => {
    expect(authz("allow-config-0").inputs).toMatchObject({
      metadata: { namespace: "media" },
      spec: {
        action: "ALLOW",
        rules: [
          {
            from: [{ source: { principals: ["cluster.local/ns/monitoring/sa/prometheus"] } }],
            to: [{ operation: { ports: ["8096"] } }],
          },
        ],
      },
    });
    expect(
      run()
        .all(AUTHORIZATION_POLICY)
        .map((p) => p.name)
        .sort(),
    ).toEqual([
      "mesh-allow-cloudflared-to-ssh",
      "mesh-allow-config-0",
      "mesh-allow-gateway-to-apex",
      "mesh-allow-gateway-to-grafana",
      "mesh-allow-gateway-to-jellyfin",
      "mesh-allow-http-ingress",
      "mesh-allow-nothing",
      "mesh-allow-same-namespace-infra",
      "mesh-allow-same-namespace-media",
      "mesh-allow-same-namespace-monitoring",
    ]);
  });

  it("creates the ambient probe policy after the Cilium release", () => {
    const probes = run().get(CCNP, "mesh-ambient-probes");
    expect(probes.inputs.spec).toEqual({
      description: "Allows kubelet health probes, SNATed by Istio ambient, into every pod",
      endpointSelector: {},
      enableDefaultDeny: { ingress: false, egress: false },
      ingress: [{ fromCIDR: ["169.254.7.127/32"] }],
    });
    expect(run().dependsOn(probes, run().get(RELEASE, "cilium-release"))).toBe(true);
  });

  it("applies the policies after base only; the gateway's allow also waits for its namespace", () => {
    const base = run().get(RELEASE, "istio-base");
    const istiod = run().get(RELEASE, "istio-istiod");
    const policies = [...run().all(AUTHORIZATION_POLICY), ...run().all(PEER_AUTHN), ...run().all(SERVICE_ENTRY)];
    expect(policies.length).toBeGreaterThan(5);
    for (const policy of policies) {
      expect(run().dependsOn(policy, base)).toBe(true);
      expect(run().dependsOn(policy, istiod)).toBe(false);
    }
    expect(run().dependsOn(authz("allow-http-ingress"), run().get(NAMESPACE, "istio-gateway-namespace"))).toBe(true);
  });

  it("enrols the configured namespaces and cloudflared's after istio-cni and ztunnel, not the gateway's", () => {
    const patches = run().all(NAMESPACE_PATCH);
    expect(patches.map((p) => p.inputs.metadata)).toEqual([
      { name: "monitoring", labels: { "istio.io/dataplane-mode": "ambient" } },
      { name: "media", labels: { "istio.io/dataplane-mode": "ambient" } },
      { name: "infra", labels: { "istio.io/dataplane-mode": "ambient" } },
      { name: "cloudflared", labels: { "istio.io/dataplane-mode": "ambient" } },
    ]);
    const cni = run().get(RELEASE, "istio-cni");
    const ztunnel = run().get(RELEASE, "istio-ztunnel");
    for (const patch of patches) {
      expect(run().dependsOn(patch, cni)).toBe(true);
      expect(run().dependsOn(patch, ztunnel)).toBe(true);
    }
    // cloudflared's patch takes the name from the tunnel's Namespace, so it waits for it.
    const cloudflaredPatch = run().get(NAMESPACE_PATCH, "mesh-enrol-cloudflared");
    expect(run().dependsOn(cloudflaredPatch, run().get(NAMESPACE, "tunnel-namespace"))).toBe(true);
  });
});

describe("a direct route with a targetPort", () => {
  it("lets cloudflared reach the container port behind the origin's Service port", async () => {
    const routes = [{ host: "ssh", origin: "ssh://bastion.infra.svc.cluster.local:22", targetPort: 2222 }];
    const run = await runProgram({ config: { routes } });
    expect(run.get(AUTHORIZATION_POLICY, "mesh-allow-cloudflared-to-ssh").inputs.spec.rules).toEqual([
      { from: [{ source: { principals: [CLOUDFLARED_PRINCIPAL] } }], to: [{ operation: { ports: ["2222"] } }] },
    ]);
  });
});

describe("MeshPolicies with the default deny off", () => {
  it("creates neither allows nor the probe policy, and keeps STRICT mTLS", async () => {
    const run = await runProgram({
      config: { istio: { meshNamespaces: ["monitoring", "media", "infra"], defaultDeny: false } },
    });
    expect(run.all(AUTHORIZATION_POLICY)).toEqual([]);
    expect(run.all(CCNP)).toEqual([]);
    expect(run.get(PEER_AUTHN, "mesh-mtls-strict").inputs.spec).toEqual({ mtls: { mode: "STRICT" } });
  });
});

describe("mTLS exceptions from config", () => {
  const istio = { meshNamespaces: ["monitoring", "media", "infra"] };

  it("become a PeerAuthentication and, under the default deny, a plaintext allow", async () => {
    const run = await runProgram({
      config: {
        istio: {
          ...istio,
          mtlsExceptions: [{ namespace: "monitoring", ports: [9100], selector: { app: "node-exporter" } }],
        },
      },
    });
    expect(run.get(PEER_AUTHN, "mesh-mtls-exception-0").inputs).toMatchObject({
      metadata: { name: "mtls-exception-0", namespace: "monitoring" },
      spec: { selector: { matchLabels: { app: "node-exporter" } }, portLevelMtls: { "9100": { mode: "PERMISSIVE" } } },
    });
    expect(run.get(AUTHORIZATION_POLICY, "mesh-allow-plaintext-0").inputs.spec).toEqual({
      selector: { matchLabels: { app: "node-exporter" } },
      action: "ALLOW",
      rules: [{ from: [{ source: { notPrincipals: ["*"] } }], to: [{ operation: { ports: ["9100"] } }] }],
    });
  });

  it("with ports but no selector fail, naming the key", async () => {
    const error = await runProgramError({
      config: { istio: { ...istio, mtlsExceptions: [{ namespace: "legacy", ports: [8080] }] } },
    });
    expect(error.message).toMatch(/homecluster:istio\.mtlsExceptions\[0\]\.ports: need a selector/);
  });

  it("with an empty selector fail, naming the key", async () => {
    const error = await runProgramError({
      config: { istio: { ...istio, mtlsExceptions: [{ namespace: "legacy", selector: {} }] } },
    });
    expect(error.message).toMatch(/homecluster:istio\.mtlsExceptions\[0\]\.selector: must name at least one label/);
  });
});
