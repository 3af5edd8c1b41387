/**
 * homecluster: the networking stack of a home Kubernetes cluster. Thin by design: load the config, create the
 * providers, instantiate the components, export the output contract (contract.ts). See README.md and docs/.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Access } from "./components/access";
import { Cilium } from "./components/cilium";
import { Tunnel } from "./components/cloudflare-tunnel";
import { ExternalDns } from "./components/external-dns";
import { IngressRoutes } from "./components/ingress-routes";
import { IstioAmbient } from "./components/istio";
import { MeshPolicies } from "./components/mesh-policies";
import { loadConfig } from "./config/load";
import type { HomeclusterOutputs } from "./contract";

const { config, secrets } = loadConfig();

const k8sProvider = new k8s.Provider("k8s", {
  context: config.kubeContext,
  // It may hold the kubeconfig's credentials; the provider stores it in the state as it is given.
  ...(config.kubeconfig ? { kubeconfig: pulumi.secret(config.kubeconfig) } : {}),
  enableServerSideApply: true,
});
const cloudflareProvider = new cloudflare.Provider("cloudflare", { apiToken: secrets.cloudflareApiToken });
const inCluster = { providers: [k8sProvider] };
const inClusterAndCloudflare = { providers: [cloudflareProvider, k8sProvider] };

const cilium = new Cilium(
  "cilium",
  {
    cilium: config.cilium,
    distribution: config.distribution,
    podCidrs: config.network.podCidrs,
    version: config.versions.cilium,
    repository: config.charts.cilium,
    helm: config.helm,
    adopt: config.adopt,
  },
  inCluster,
);
const istio = new IstioAmbient(
  "istio",
  {
    istio: config.istio,
    namespaces: config.namespaces,
    version: config.versions.istio,
    repository: config.charts.istio,
    helm: config.helm,
    cilium: cilium.release,
    adopt: config.adopt,
  },
  inCluster,
);
const zeroTrust = new Access(
  "access",
  {
    access: config.access,
    accountId: config.cloudflareAccountId,
    routes: config.routes,
    protect: config.tunnel.protect,
    adopt: config.adopt,
  },
  { providers: [cloudflareProvider] },
);
const tunnel = new Tunnel(
  "tunnel",
  {
    tunnel: config.tunnel,
    namespace: config.namespaces.cloudflared,
    accountId: config.cloudflareAccountId,
    zoneId: config.cloudflareZoneId,
    routes: config.routes,
    gateway: istio.gateway,
    version: config.versions.cloudflared,
    owner: config.owner,
    cilium: cilium.release,
    access: zeroTrust.guard,
    adopt: config.adopt,
  },
  inClusterAndCloudflare,
);
const mesh = new MeshPolicies(
  "mesh",
  {
    istio: config.istio,
    routes: config.routes,
    mesh: istio,
    cloudflared: tunnel.cloudflared,
    cilium: cilium.release,
    adopt: config.adopt,
  },
  inCluster,
);
const ingress = new IngressRoutes(
  "routes",
  { routes: config.routes, mesh: istio, access: zeroTrust.guard, adopt: config.adopt },
  inCluster,
);
const externalDns = new ExternalDns(
  "external-dns",
  {
    externalDns: config.externalDns,
    namespace: config.namespaces.externalDns,
    domain: config.domain,
    zoneId: config.cloudflareZoneId,
    version: config.versions.externalDns,
    repository: config.charts.externalDns,
    helm: config.helm,
    apiToken: secrets.externalDnsApiToken,
    cilium: cilium.release,
    istioCrds: istio.crds,
    adopt: config.adopt,
  },
  inClusterAndCloudflare,
);

// The output contract: each export is typed by it, so a rename or type change fails to compile.
type Exported<K extends keyof HomeclusterOutputs> = pulumi.Output<HomeclusterOutputs[K]>;
export const domain: Exported<"domain"> = pulumi.output(config.domain);
export const zoneId: Exported<"zoneId"> = pulumi.output(config.cloudflareZoneId);
export const tunnelId: Exported<"tunnelId"> = tunnel.tunnelId;
export const tunnelCname: Exported<"tunnelCname"> = tunnel.tunnelCname;
export const publicHostnames: Exported<"publicHostnames"> = pulumi.output(tunnel.publicHostnames);
export const routes: Exported<"routes"> = pulumi.output(tunnel.routes);
export const ingressGateway: Exported<"ingressGateway"> = pulumi.output(ingress.ingressGateway);
export const meshNamespaces: Exported<"meshNamespaces"> = mesh.meshNamespaces;
export const lbPools: Exported<"lbPools"> = cilium.lbPools;
export const versions: Exported<"versions"> = pulumi.output(config.versions);
export const dns: Exported<"dns"> = pulumi.output(externalDns.dns);
export const access: Exported<"access"> = zeroTrust.access;
