import { describe, expect, it } from "vitest";
import type { GatewayRoute, Route } from "../config";
import { gatewayRoutes, publicGateway, routeVirtualService } from "../components/ingress-routes";
import {
  AUTHORIZATION_POLICY,
  GATEWAY,
  NAMESPACE,
  RELEASE,
  runProgram,
  runProgramError,
  sharedRun,
  stackConfig,
  VIRTUAL_SERVICE,
} from "./harness";
import { gatewayRoute, gatewayService } from "./fixtures";

const TUNNEL_LABELS = { "homecluster.io/tunnel-route": "true" };

const grafana = gatewayRoute("grafana", "monitoring", 80);
const wildcard: GatewayRoute = {
  ...grafana,
  hostname: "*.example.com",
  name: "wildcard",
  service: "fallback",
  namespace: "web",
};
const ssh: Route = {
  kind: "direct",
  hostname: "ssh.example.com",
  name: "ssh",
  configKey: "homecluster:routes[2]",
  origin: "ssh://bastion.infra.svc.cluster.local:22",
};

describe("ingress route builders", () => {
  it("keeps only gateway routes", () => {
    expect(gatewayRoutes([grafana, ssh, wildcard])).toEqual([grafana, wildcard]);
  });

  it("builds one plain-HTTP Gateway on the gateway's pods with every gateway hostname, labelled for the tunnel", () => {
    expect(publicGateway("public", gatewayService, [grafana, wildcard])).toEqual({
      apiVersion: "networking.istio.io/v1",
      kind: "Gateway",
      metadata: { name: "public", namespace: "istio-ingress", labels: TUNNEL_LABELS },
      spec: {
        selector: { app: "istio-ingress", istio: "ingressgateway" },
        servers: [
          { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["grafana.example.com", "*.example.com"] },
        ],
      },
    });
  });

  it("routes a hostname to its Service's cluster FQDN and Service port", () => {
    expect(routeVirtualService({ ...grafana, targetPort: 3000 }, "istio-ingress/public")).toEqual({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "grafana", namespace: "monitoring", labels: TUNNEL_LABELS },
      spec: {
        hosts: ["grafana.example.com"],
        gateways: ["istio-ingress/public"],
        http: [{ route: [{ destination: { host: "grafana.monitoring.svc.cluster.local", port: { number: 80 } } }] }],
      },
    });
  });
});

describe("IngressRoutes under mocks with the committed config", () => {
  const run = sharedRun();

  it("creates one Gateway whose hosts are exactly the gateway routes' hostnames", () => {
    const gateways = run().all(GATEWAY);
    expect(gateways).toHaveLength(1);
    expect(gateways[0]!.name).toBe("routes-gateway");
    expect(gateways[0]!.inputs).toMatchObject({
      metadata: { name: "public", namespace: "istio-ingress", labels: TUNNEL_LABELS },
      spec: {
        selector: { app: "istio-ingress", istio: "ingressgateway" },
        servers: [
          {
            port: { number: 80, name: "http", protocol: "HTTP" },
            hosts: ["grafana.example.com", "jellyfin.example.com", "example.com"],
          },
        ],
      },
    });
  });

  it("creates one VirtualService per gateway route to its Service, none for the direct route", () => {
    const expected: [string, string, string, number][] = [
      ["grafana", "monitoring", "grafana.monitoring.svc.cluster.local", 80],
      ["jellyfin", "media", "jellyfin.media.svc.cluster.local", 8096],
      ["apex", "media", "homepage.media.svc.cluster.local", 3000],
    ];
    expect(
      run()
        .all(VIRTUAL_SERVICE)
        .map((r) => r.name),
    ).toEqual(expected.map(([name]) => `routes-${name}`));
    for (const [name, namespace, host, port] of expected) {
      const vs = run().get(VIRTUAL_SERVICE, `routes-${name}`);
      expect(vs.inputs.metadata).toEqual({ name, namespace, labels: TUNNEL_LABELS });
      expect(vs.inputs.spec.gateways).toEqual(["istio-ingress/public"]);
      expect(vs.inputs.spec.http).toEqual([{ route: [{ destination: { host, port: { number: port } } }] }]);
    }
  });

  it("registers the routes after base only (not istiod), the Gateway also after its namespace", () => {
    const base = run().get(RELEASE, "istio-base");
    const istiod = run().get(RELEASE, "istio-istiod");
    for (const r of [...run().all(GATEWAY), ...run().all(VIRTUAL_SERVICE)]) {
      expect(run().dependsOn(r, base)).toBe(true);
      expect(run().dependsOn(r, istiod)).toBe(false);
    }
    expect(run().dependsOn(run().get(GATEWAY, "routes-gateway"), run().get(NAMESPACE, "istio-gateway-namespace"))).toBe(
      true,
    );
  });
});

describe("a route added in config", () => {
  const routes = [...(stackConfig().routes as unknown[])];

  it("gets its Gateway host, its VirtualService and its allow", async () => {
    const run = await runProgram({
      config: { routes: [...routes, { host: "books", service: "calibre", namespace: "media", port: 8083 }] },
    });
    expect(run.get(GATEWAY, "routes-gateway").inputs.spec.servers[0].hosts).toEqual([
      "grafana.example.com",
      "jellyfin.example.com",
      "example.com",
      "books.example.com",
    ]);
    expect(run.get(VIRTUAL_SERVICE, "routes-books").inputs).toMatchObject({
      metadata: { name: "books", namespace: "media" },
      spec: {
        hosts: ["books.example.com"],
        http: [{ route: [{ destination: { host: "calibre.media.svc.cluster.local", port: { number: 8083 } } }] }],
      },
    });
    expect(run.get(AUTHORIZATION_POLICY, "mesh-allow-gateway-to-books").inputs).toMatchObject({
      metadata: { namespace: "media" },
      spec: {
        rules: [
          {
            from: [{ source: { principals: ["cluster.local/ns/istio-ingress/sa/istio-ingress"] } }],
            to: [{ operation: { ports: ["8083"] } }],
          },
        ],
      },
    });
  });

  it("with a targetPort, routes to the Service port and allows the container port", async () => {
    const grafanaRoute = { host: "grafana", service: "grafana", namespace: "monitoring", port: 80, targetPort: 3000 };
    const run = await runProgram({ config: { routes: [grafanaRoute, ...routes.slice(1)] } });
    expect(run.get(VIRTUAL_SERVICE, "routes-grafana").inputs.spec.http).toEqual([
      { route: [{ destination: { host: "grafana.monitoring.svc.cluster.local", port: { number: 80 } } }] },
    ]);
    expect(run.get(AUTHORIZATION_POLICY, "mesh-allow-gateway-to-grafana").inputs.spec.rules[0].to).toEqual([
      { operation: { ports: ["3000"] } },
    ]);
  });

  it("kept outside the mesh (mesh: false), gets its VirtualService but no allow (ztunnel would not enforce it)", async () => {
    const wiki = { host: "wiki", service: "wiki", namespace: "legacy", port: 80, mesh: false };
    const run = await runProgram({ config: { routes: [...routes, wiki] } });
    expect(run.get(VIRTUAL_SERVICE, "routes-wiki").inputs.metadata).toEqual({
      name: "wiki",
      namespace: "legacy",
      labels: TUNNEL_LABELS,
    });
    expect(run.all(AUTHORIZATION_POLICY).filter((p) => p.inputs.metadata.namespace === "legacy")).toEqual([]);
  });

  it("with only direct routes, creates no Gateway and no VirtualService", async () => {
    const run = await runProgram({ config: { routes: [{ host: "ssh", origin: "ssh://bastion.infra.svc:22" }] } });
    expect(run.all(GATEWAY)).toEqual([]);
    expect(run.all(VIRTUAL_SERVICE)).toEqual([]);
    expect(run.all(AUTHORIZATION_POLICY).filter((r) => r.name.startsWith("mesh-allow-gateway-to-"))).toEqual([]);
  });
});

describe("a bad route fails before anything is created, naming it", () => {
  const routes = [...(stackConfig().routes as unknown[])];
  const cases: [string, unknown, RegExp][] = [
    [
      "a port out of range",
      { host: "x", service: "x", namespace: "media", port: 70000 },
      /homecluster:routes\[4\]\.port: must be 1-65535/,
    ],
    [
      "a hostname outside the domain",
      { host: "grafana.example.org", service: "x", namespace: "media", port: 80 },
      /homecluster:routes\[4\]\.host: 'grafana\.example\.org' is outside the domain example\.com/,
    ],
    [
      "a duplicate hostname",
      { host: "jellyfin.example.com", service: "x", namespace: "media", port: 80 },
      /homecluster:routes\[4\]\.host: jellyfin\.example\.com is already routed by homecluster:routes\[1\]/,
    ],
    [
      "a targetPort out of range",
      { host: "x", service: "x", namespace: "media", port: 80, targetPort: 0 },
      /homecluster:routes\[4\]\.targetPort: must be 1-65535/,
    ],
    [
      "a namespace that is not a Kubernetes name",
      { host: "x", service: "x", namespace: "Media_NS", port: 80 },
      /homecluster:routes\[4\]\.namespace: must be a Kubernetes name/,
    ],
  ];
  for (const [what, route, message] of cases) {
    it(what, async () => {
      const error = await runProgramError({ config: { routes: [...routes, route] } });
      expect(error.message).toMatch(message);
    });
  }
});
