import { describe, expect, it } from "vitest";
import { publicGateway, publicGatewayRef, routeVirtualService } from "../builders/ingress-objects";
import { gatewayRoutes, servedRoutes } from "../model/routes";
import { gateway, gatewayRoute, normalised, parsedConfig } from "./support/fixtures";
import { runProgram, runProgramError, sharedRun, fixtureConfig, TYPES } from "./support/harness";

const TUNNEL_LABELS = { "homecluster.io/tunnel-route": "true" };

describe("ingress object builders", () => {
  const grafana = gatewayRoute("grafana", "monitoring", 80, 3000);
  const wildcard = gatewayRoute("*", "web", 80);

  it("builds one plain-HTTP Gateway on the gateway's pods with every gateway hostname, labelled for the tunnel", () => {
    expect(publicGateway(gateway, [grafana, wildcard])).toEqual({
      apiVersion: "networking.istio.io/v1",
      kind: "Gateway",
      metadata: { name: "public", namespace: "istio-ingress", labels: TUNNEL_LABELS },
      spec: {
        selector: { app: "istio-ingress", istio: "ingressgateway" },
        servers: [
          {
            port: { number: 80, name: "http", protocol: "HTTP" },
            // Each hostname only for VirtualServices of its route's namespace.
            hosts: ["monitoring/grafana.example.com", "web/*.example.com"],
          },
        ],
      },
    });
    expect(publicGatewayRef(gateway)).toBe("istio-ingress/public");
  });

  it("routes a hostname to its Service's cluster FQDN and Service port (not the container port)", () => {
    expect(routeVirtualService(grafana, gateway)).toEqual({
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

describe("the IngressRoutes component with the test stack's config", () => {
  const run = sharedRun();

  it("registers the Gateway and one VirtualService per gateway route, as the builders make them", () => {
    const routes = gatewayRoutes(parsedConfig().routes);
    expect(run().get(TYPES.gateway, "routes-gateway").inputs).toEqual(publicGateway(gateway, routes));
    expect(
      run()
        .all(TYPES.virtualService)
        .map((r) => r.name),
    ).toEqual(servedRoutes(routes).map((r) => `routes-${r.name}`));
    for (const route of servedRoutes(routes)) {
      expect(run().get(TYPES.virtualService, `routes-${route.name}`).inputs).toEqual(
        routeVirtualService(route, gateway),
      );
    }
  });

  it("registers them after Istio's CRDs only (not istiod); the Gateway also after its namespace", () => {
    const base = run().get(TYPES.release, "istio-base");
    const istiod = run().get(TYPES.release, "istio-istiod");
    for (const r of [...run().all(TYPES.gateway), ...run().all(TYPES.virtualService)]) {
      expect(run().dependsOn(r, base)).toBe(true);
      expect(run().dependsOn(r, istiod)).toBe(false);
    }
    const gatewayNamespace = run().get(TYPES.namespace, "istio-gateway-namespace");
    expect(run().dependsOn(run().get(TYPES.gateway, "routes-gateway"), gatewayNamespace)).toBe(true);
  });
});

describe("adding a public app is one line in routes", () => {
  const routes = fixtureConfig().routes as unknown[];

  it("gives it a Gateway host, a VirtualService, a tunnel rule, a CNAME and the gateway's allow", async () => {
    const run = await runProgram({
      config: { routes: [...routes, { host: "books", service: "calibre", namespace: "media", port: 8083 }] },
    });
    const books = normalised([
      { kind: "gateway", host: "books", service: "calibre", namespace: "media", port: 8083 },
    ])[0]!;
    expect(run.get(TYPES.gateway, "routes-gateway").inputs.spec.servers[0].hosts).toContain("media/books.example.com");
    expect(run.get(TYPES.virtualService, "routes-books").inputs).toEqual(routeVirtualService(books as never, gateway));
    expect(run.get(TYPES.tunnelConfig, "tunnel-config").inputs.config.ingresses).toContainEqual({
      hostname: "books.example.com",
      service: "http://istio-ingress.istio-ingress.svc.cluster.local:80",
    });
    expect(run.get(TYPES.dnsRecord, "tunnel-dns-books").inputs.name).toBe("books.example.com");
    expect(run.get(TYPES.authorizationPolicy, "mesh-allow-gateway-to-books").inputs.spec.rules).toEqual([
      {
        from: [{ source: { principals: ["cluster.local/ns/istio-ingress/sa/istio-ingress"] } }],
        to: [{ operation: { ports: ["8083"] } }],
      },
    ]);
  });

  it("kept outside the mesh (mesh: false), gets its VirtualService but no allow (ztunnel would not enforce it)", async () => {
    const wiki = { host: "wiki", service: "wiki", namespace: "legacy", port: 80, mesh: false };
    const run = await runProgram({ config: { routes: [...routes, wiki] } });
    expect(run.get(TYPES.virtualService, "routes-wiki").inputs.metadata.namespace).toBe("legacy");
    expect(run.all(TYPES.authorizationPolicy).filter((p) => p.inputs.metadata.namespace === "legacy")).toEqual([]);
  });

  it("served by an application stack ({ host, namespace }), gets the tunnel rule, the CNAME and a Gateway host only that namespace may bind", async () => {
    const run = await runProgram({ config: { routes: [...routes, { host: "whoami", namespace: "media" }] } });
    expect(run.get(TYPES.gateway, "routes-gateway").inputs.spec.servers[0].hosts).toEqual([
      "monitoring/grafana.example.com",
      "media/jellyfin.example.com",
      "media/example.com",
      "media/whoami.example.com",
    ]);
    expect(run.get(TYPES.tunnelConfig, "tunnel-config").inputs.config.ingresses).toContainEqual({
      hostname: "whoami.example.com",
      service: "http://istio-ingress.istio-ingress.svc.cluster.local:80",
    });
    expect(run.get(TYPES.dnsRecord, "tunnel-dns-whoami").inputs).toMatchObject({
      name: "whoami.example.com",
      proxied: true,
    });
    // The application stack brings its VirtualService and its allow.
    expect(run.all(TYPES.virtualService).map((r) => r.name)).not.toContain("routes-whoami");
    expect(run.all(TYPES.authorizationPolicy).map((r) => r.name)).not.toContain("mesh-allow-gateway-to-whoami");
  });

  it("with only direct routes, creates no Gateway and no VirtualService", async () => {
    const run = await runProgram({
      config: { routes: [{ host: "ssh", origin: "ssh://bastion.infra.svc:22", access: "admins" }] },
    });
    expect(run.all(TYPES.gateway)).toEqual([]);
    expect(run.all(TYPES.virtualService)).toEqual([]);
  });

  it("fails before anything is created when the line is wrong, naming it", async () => {
    const error = await runProgramError({
      config: { routes: [...routes, { host: "x", service: "x", namespace: "media", port: 70000 }] },
    });
    expect(error.message).toMatch(/homecluster:routes\[4\]\.port: must be 1-65535/);
    expect(error.registered).toEqual([]);
  });
});
