/**
 * homecluster:mesh:IstioAmbient — Istio in ambient mode (ztunnel, no sidecars) and its ingress gateway.
 *
 * Creates:
 * - the `istio-system` Namespace, labelled PSA `privileged` (Talos enforces `baseline` everywhere but kube-system,
 *   and istio-cni and ztunnel are privileged DaemonSets), and the gateway's Namespace;
 * - Helm releases of the five official charts at one version, with values from `istioValues()`:
 *   `base` (CRDs) → `istiod` → {`istio-cni`, `ztunnel`}, and the ingress gateway (`istio-ingress`) after istiod,
 *   whose injection webhook its pods need. All after Cilium.
 *
 * The gateway namespace is not enrolled in ambient: the gateway chart labels its pods
 * `istio.io/dataplane-mode: none`, because the gateway is an Envoy proxy of its own. It reaches ambient backends
 * over HBONE with its own mTLS identity (the ambient profile sets ISTIO_META_ENABLE_HBONE, and Envoy proxies
 * originate HBONE). It does not terminate HBONE, though: ambient clients (cloudflared) reach it in plaintext, which
 * is why policies/authorization.ts cannot check their identity at the gateway.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartRelease, deepMerge, type ChartRef, type HelmValues } from "./helm";
import { charts } from "./versions";

/** Istio's root namespace: control plane, node agents, and the mesh-wide policies. */
export const ISTIO_NAMESPACE = charts.istiod.namespace;
/** The gateway's release name: the chart names its Deployment, Service and service account after it. */
export const GATEWAY_RELEASE = charts.istioGateway.releaseName;
/** The gateway's plain-HTTP port, on the Service and on the pod (TLS ends at Cloudflare). */
export const GATEWAY_HTTP_PORT = 80;
/** The gateway's pod labels. Set explicitly: a Deployment's selector cannot change after it is created. */
export const GATEWAY_SELECTOR: Record<string, string> = { app: GATEWAY_RELEASE, istio: "ingressgateway" };

export type IstioChart = "base" | "istiod" | "cni" | "ztunnel" | "gateway";

/** The chart of each part. */
const ISTIO_CHARTS: Record<IstioChart, ChartRef> = {
  base: charts.istioBase,
  istiod: charts.istiod,
  cni: charts.istioCni,
  ztunnel: charts.ztunnel,
  gateway: charts.istioGateway,
};

/** The gateway's Kubernetes Service and workload, as the tunnel and the mesh policies need them. */
export interface GatewayService {
  namespace: string;
  /** Service name; `http://<name>.<namespace>.svc.cluster.local:<port>` reaches the gateway. */
  name: string;
  /** Plain-HTTP port, the same on the Service and the pod. */
  port: number;
  /** Pod labels that select the gateway. */
  selector: Record<string, string>;
  /** The gateway pods' service account: their mesh identity. */
  serviceAccount: string;
}

export interface GatewaySettings {
  /** Namespace the component creates for the gateway. Default in config: `istio-ingress`. */
  namespace: string;
  /** `ClusterIP` (reached only through the tunnel) or `LoadBalancer` (also on the LAN). Default in config: ClusterIP. */
  serviceType: "ClusterIP" | "LoadBalancer";
  /** With LoadBalancer: a fixed address from the Cilium LB pool. Default: none (the pool picks one). */
  loadBalancerIP?: string;
}

export interface IstioValuesArgs {
  /** The gateway's namespace and Service. Default in config: `istio-ingress`, ClusterIP. */
  gateway: GatewaySettings;
  /** Escape hatch per chart: values deep-merged over everything this function sets. Default: none. */
  values: Partial<Record<IstioChart, HelmValues>>;
}

/**
 * Where istio-cni installs its plugin and chains its config. Cilium is the CNI on every distribution this stack
 * supports and uses the standard paths, so Istio takes no distribution preset and no `global.platform`:
 * - talos: containerd uses /etc/cni/net.d and /opt/cni/bin (Istio has no `talos` platform; the chart would fail);
 * - k3s: started with --flannel-backend=none, k3s uses the standard paths Cilium writes to. `global.platform=k3s`
 *   would point istio-cni at the bundled flannel's /var/lib/rancher/k3s/... directories, which Cilium never uses;
 * - kubeadm: the standard paths.
 * Pinned (they are also the chart's defaults) so a chart upgrade cannot move them.
 */
const CNI_PATHS = { cniBinDir: "/opt/cni/bin", cniConfDir: "/etc/cni/net.d" } as const;

/** The gateway chart's Service: ClusterIP, or LoadBalancer with an optional fixed address from Cilium LB IPAM. */
function gatewayServiceValues(gateway: GatewaySettings): HelmValues {
  return {
    type: gateway.serviceType,
    // Only the ports in use: the status port (readiness) and plain HTTP; the chart's default also opens 443.
    ports: [
      { name: "status-port", port: 15021, protocol: "TCP", targetPort: 15021 },
      { name: "http2", port: GATEWAY_HTTP_PORT, protocol: "TCP", targetPort: GATEWAY_HTTP_PORT },
    ],
    // Cilium LB IPAM reads this annotation; the Service's spec.loadBalancerIP is deprecated in Kubernetes.
    ...(gateway.loadBalancerIP ? { annotations: { "lbipam.cilium.io/ips": gateway.loadBalancerIP } } : {}),
  };
}

/** Helm values of the five charts. Pure: tested directly. */
export function istioValues(args: IstioValuesArgs): Record<IstioChart, HelmValues> {
  const own: Record<IstioChart, HelmValues> = {
    base: {},
    istiod: { profile: "ambient" },
    cni: { profile: "ambient", ...CNI_PATHS },
    // ztunnel is ambient-only; the upstream guide installs it without a profile.
    ztunnel: {},
    // The chart keeps its default `istio.io/dataplane-mode: none` label next to these (Helm merges maps).
    gateway: { labels: GATEWAY_SELECTOR, service: gatewayServiceValues(args.gateway) },
  };
  return {
    base: deepMerge(own.base, args.values.base ?? {}),
    istiod: deepMerge(own.istiod, args.values.istiod ?? {}),
    cni: deepMerge(own.cni, args.values.cni ?? {}),
    ztunnel: deepMerge(own.ztunnel, args.values.ztunnel ?? {}),
    gateway: deepMerge(own.gateway, args.values.gateway ?? {}),
  };
}

export interface IstioAmbientArgs extends IstioValuesArgs {
  /** Exact version of all five charts. Default in config: `versions.istio` in components/versions.ts. */
  version: string;
  /** The CNI (Cilium's release): every Istio release waits for it. Required. */
  cilium: pulumi.Resource;
}

export class IstioAmbient extends pulumi.ComponentResource {
  public readonly systemNamespace: k8s.core.v1.Namespace;
  public readonly gatewayNamespace: k8s.core.v1.Namespace;
  /** CRDs: Istio custom resources wait for this release only. */
  public readonly base: k8s.helm.v3.Release;
  public readonly istiod: k8s.helm.v3.Release;
  public readonly cni: k8s.helm.v3.Release;
  public readonly ztunnel: k8s.helm.v3.Release;
  public readonly gateway: k8s.helm.v3.Release;
  /** The ingress gateway's Service and workload (plain values, known at plan time). */
  public readonly gatewayService: GatewayService;

  constructor(name: string, args: IstioAmbientArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:mesh:IstioAmbient", name, {}, opts);
    if (args.gateway.loadBalancerIP !== undefined && args.gateway.serviceType !== "LoadBalancer") {
      throw new pulumi.ResourceError("gateway.loadBalancerIP needs gateway.serviceType LoadBalancer", this);
    }

    this.systemNamespace = new k8s.core.v1.Namespace(
      `${name}-system-namespace`,
      { metadata: { name: ISTIO_NAMESPACE, labels: { "pod-security.kubernetes.io/enforce": "privileged" } } },
      { parent: this },
    );
    this.gatewayNamespace = new k8s.core.v1.Namespace(
      `${name}-gateway-namespace`,
      { metadata: { name: args.gateway.namespace } },
      { parent: this },
    );

    const values = istioValues(args);
    const release = (part: IstioChart, namespace: string, after: pulumi.Resource[]) =>
      chartRelease(
        `${name}-${part}`,
        { chart: ISTIO_CHARTS[part], version: args.version, namespace, values: values[part] },
        { parent: this, dependsOn: [args.cilium, ...after] },
      );
    this.base = release("base", ISTIO_NAMESPACE, [this.systemNamespace]);
    this.istiod = release("istiod", ISTIO_NAMESPACE, [this.base]);
    this.cni = release("cni", ISTIO_NAMESPACE, [this.istiod]);
    this.ztunnel = release("ztunnel", ISTIO_NAMESPACE, [this.istiod]);
    this.gateway = release("gateway", args.gateway.namespace, [this.istiod, this.gatewayNamespace]);

    this.gatewayService = {
      namespace: args.gateway.namespace,
      name: GATEWAY_RELEASE,
      port: GATEWAY_HTTP_PORT,
      selector: GATEWAY_SELECTOR,
      // The chart names the service account after the release unless told otherwise.
      serviceAccount: GATEWAY_RELEASE,
    };
    this.registerOutputs({
      systemNamespace: this.systemNamespace,
      gatewayNamespace: this.gatewayNamespace,
      base: this.base,
      istiod: this.istiod,
      cni: this.cni,
      ztunnel: this.ztunnel,
      gateway: this.gateway,
      gatewayService: this.gatewayService,
    });
  }
}
