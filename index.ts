/**
 * homecluster: the networking stack of a home Kubernetes cluster. Thin by design: load the config, create
 * the providers, instantiate the components, export the output contract. See README.md and components/.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, routeSummaries } from "./config";
import type { HomeclusterOutputs } from "./contract";
import { Cilium } from "./components/cilium";
import { CLOUDFLARED_SERVICE_ACCOUNT, Tunnel } from "./components/cloudflare-tunnel";
import { ExternalDns } from "./components/external-dns";
import { IngressRoutes } from "./components/ingress-routes";
import { IstioAmbient } from "./components/istio";
import { MeshPolicies } from "./components/mesh-policies";
import { TUNNEL_ROUTE_LABEL } from "./components/dns-ownership";
import { principal } from "./policies/authorization";

const config = loadConfig();

const k8sProvider = new k8s.Provider("k8s", {
  context: config.kubeContext,
  ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
  enableServerSideApply: true,
});

const cloudflareProvider = new cloudflare.Provider("cloudflare", { apiToken: config.cloudflareApiToken });

const cilium = new Cilium(
  "cilium",
  {
    distribution: config.distribution,
    version: config.versions.cilium,
    k8sServiceHost: config.cilium.k8sServiceHost,
    k8sServicePort: config.cilium.k8sServicePort,
    ipamMode: config.cilium.ipamMode,
    podCidrs: config.network.podCidrs,
    clusterName: config.cilium.clusterName,
    clusterId: config.cilium.clusterId,
    operatorReplicas: config.cilium.operatorReplicas,
    hubbleUi: config.cilium.hubbleUi,
    k8sClientRateLimit: config.cilium.k8sClientRateLimit,
    values: config.cilium.values,
    lbPool: config.cilium.lbPool,
    l2: config.cilium.l2,
  },
  { providers: [k8sProvider] },
);

const istio = new IstioAmbient(
  "istio",
  {
    version: config.versions.istio,
    gateway: config.istio.gateway,
    values: config.istio.values,
    cilium: cilium.release,
  },
  { providers: [k8sProvider] },
);

const tunnel = new Tunnel(
  "tunnel",
  {
    accountId: config.cloudflareAccountId,
    zoneId: config.cloudflareZoneId,
    tunnelName: config.tunnel.name,
    routes: config.routes,
    gateway: istio.gatewayService,
    originRequest: config.tunnel.originRequest,
    cloudflared: config.tunnel.cloudflared,
    cloudflaredVersion: config.versions.cloudflared,
    protect: config.tunnel.protect,
    cniReady: cilium.release,
    owner: { project: pulumi.getProject(), stack: pulumi.getStack() },
  },
  { providers: [cloudflareProvider, k8sProvider] },
);

const mesh = new MeshPolicies(
  "mesh",
  {
    defaultDeny: config.istio.defaultDeny,
    allowSameNamespace: config.istio.allowSameNamespace,
    meshNamespaces: config.istio.meshNamespaces,
    mtlsExceptions: config.istio.mtlsExceptions,
    allow: config.istio.allow,
    serviceEntries: config.istio.serviceEntries,
    routes: config.routes,
    gateway: istio.gatewayService,
    cloudflared: { namespace: config.tunnel.cloudflared.namespace, serviceAccount: CLOUDFLARED_SERVICE_ACCOUNT },
    cloudflaredNamespace: tunnel.namespace.metadata.name,
    istioBase: istio.base,
    dataplane: [istio.cni, istio.ztunnel],
    gatewayNamespace: istio.gatewayNamespace,
    cilium: cilium.release,
  },
  { providers: [k8sProvider] },
);

const ingressRoutes = new IngressRoutes(
  "routes",
  {
    routes: config.routes,
    gateway: istio.gatewayService,
    istioBase: istio.base,
    gatewayNamespace: istio.gatewayNamespace,
  },
  { providers: [k8sProvider] },
);

new ExternalDns(
  "external-dns",
  {
    version: config.versions.externalDns,
    namespace: config.externalDns.namespace,
    domain: config.domain,
    zoneId: config.cloudflareZoneId,
    sources: config.externalDns.sources,
    policy: config.externalDns.policy,
    proxied: config.externalDns.proxied,
    interval: config.externalDns.interval,
    logLevel: config.externalDns.logLevel,
    txtOwnerId: config.externalDns.txtOwnerId,
    serviceMonitor: config.externalDns.serviceMonitor,
    apiToken: config.externalDnsApiToken,
    cniReady: cilium.release,
    istioCrds: istio.base,
  },
  { providers: [cloudflareProvider, k8sProvider] },
);

// The output contract (contract.ts): each export is typed by it, so a rename or type change fails to compile.
type Exported<K extends keyof HomeclusterOutputs> = pulumi.Output<HomeclusterOutputs[K]>;
export const domain: Exported<"domain"> = pulumi.output(config.domain);
export const zoneId: Exported<"zoneId"> = pulumi.output(config.cloudflareZoneId);
export const tunnelId: Exported<"tunnelId"> = tunnel.tunnelId;
export const tunnelCname: Exported<"tunnelCname"> = tunnel.cname;
export const publicHostnames: Exported<"publicHostnames"> = pulumi.output(tunnel.hostnames);
export const routes: Exported<"routes"> = pulumi.output(routeSummaries(config.routes, istio.gatewayService));
export const ingressGateway: Exported<"ingressGateway"> = pulumi.output({
  namespace: istio.gatewayService.namespace,
  service: istio.gatewayService.name,
  port: istio.gatewayService.port,
  selector: istio.gatewayService.selector,
  gateway: `${ingressRoutes.gatewayNamespace}/${ingressRoutes.gatewayName}`,
  principal: principal(istio.gatewayService),
});
export const meshNamespaces: Exported<"meshNamespaces"> = mesh.meshNamespaces;
export const lbPools: Exported<"lbPools"> = cilium.lbPoolBlocks;
export const versions: Exported<"versions"> = pulumi.output(config.versions);
export const dns: Exported<"dns"> = pulumi.output({
  externalDnsOwnerId: config.externalDns.txtOwnerId,
  tunnelRouteLabel: TUNNEL_ROUTE_LABEL,
});
