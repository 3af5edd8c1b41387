/**
 * Every pinned chart version and image tag, in one place. Each can be overridden from config
 * (`homecluster:versions`); the `renovate:` comments let a Renovate regex manager bump them.
 */
export const defaultVersions = {
  // renovate: datasource=helm registryUrl=https://helm.cilium.io depName=cilium
  cilium: "1.20.0",
  // One version for all five Istio charts (base, istiod, cni, ztunnel, gateway).
  // renovate: datasource=helm registryUrl=https://istio-release.storage.googleapis.com/charts depName=istiod
  istio: "1.30.3",
  // renovate: datasource=helm registryUrl=https://kubernetes-sigs.github.io/external-dns depName=external-dns
  externalDns: "1.21.1",
  // renovate: datasource=docker depName=cloudflare/cloudflared
  cloudflared: "2026.8.2",
};

export type Versions = typeof defaultVersions;

/**
 * Where each chart family comes from unless `homecluster:charts` names a mirror: the upstream Helm repositories
 * (the install guides' and Renovate's `registryUrl`s above).
 */
export const defaultChartRepositories = {
  cilium: "https://helm.cilium.io",
  istio: "https://istio-release.storage.googleapis.com/charts",
  externalDns: "https://kubernetes-sigs.github.io/external-dns",
};

/** A chart family: the charts one repository serves at one version (the five Istio charts are one). */
export type ChartFamily = keyof typeof defaultChartRepositories;

/** A workload a chart renders: its kind, its name and its pods' selector, as doctor looks for it. */
export interface ChartWorkload {
  kind: "Deployment" | "DaemonSet";
  name: string;
  selector: Record<string, string>;
}

/** A release of a chart as the workloads it renders depend on it: its name and the stack's values. */
interface ReleaseOf {
  name: string;
  values: Record<string, unknown>;
}

/** A chart, its family (which decides its repository and version) and the name of its release. */
export interface Chart {
  chart: string;
  family: ChartFamily;
  /** The release name `helm list` shows. */
  releaseName: string;
  /** Where it is installed, unless config decides. */
  namespace?: string;
  /**
   * The Deployments and DaemonSets the chart renders for that release (in its namespace): declared here once, used
   * by doctor, and verified against the real rendered chart by the conformance tier (`npm run test:conformance`).
   */
  workloads(release: ReleaseOf): ChartWorkload[];
}

/** A nested value (`hubble.relay.enabled`) of a release's values. */
function value(release: ReleaseOf, dotted: string): unknown {
  return dotted
    .split(".")
    .reduce<unknown>(
      (node, key) =>
        node && typeof node === "object" && !Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined,
      release.values,
    );
}

const deployment = (name: string, selector: Record<string, string>): ChartWorkload => ({
  kind: "Deployment",
  name,
  selector,
});
const daemonSet = (name: string, selector: Record<string, string>): ChartWorkload => ({
  kind: "DaemonSet",
  name,
  selector,
});

/**
 * Every Helm release the stack installs: the chart, its repository, and the release name `helm list` shows (the
 * names the upstream install guides use). `namespace` is fixed where the stack does not take it from config.
 */
export const charts = {
  cilium: {
    chart: "cilium",
    family: "cilium",
    releaseName: "cilium",
    namespace: "kube-system",
    // Hubble Relay and UI default to off in the chart, Envoy and the operator to on.
    workloads: (release) => [
      daemonSet("cilium", { "k8s-app": "cilium" }),
      ...(value(release, "envoy.enabled") !== false ? [daemonSet("cilium-envoy", { "k8s-app": "cilium-envoy" })] : []),
      ...(value(release, "operator.enabled") !== false
        ? [deployment("cilium-operator", { "io.cilium/app": "operator", name: "cilium-operator" })]
        : []),
      ...(value(release, "hubble.relay.enabled") === true
        ? [deployment("hubble-relay", { "k8s-app": "hubble-relay" })]
        : []),
      ...(value(release, "hubble.ui.enabled") === true ? [deployment("hubble-ui", { "k8s-app": "hubble-ui" })] : []),
    ],
  },
  istioBase: {
    chart: "base",
    family: "istio",
    releaseName: "istio-base",
    namespace: "istio-system",
    workloads: () => [],
  },
  istiod: {
    chart: "istiod",
    family: "istio",
    releaseName: "istiod",
    namespace: "istio-system",
    workloads: () => [deployment("istiod", { istio: "pilot" })],
  },
  istioCni: {
    chart: "cni",
    family: "istio",
    releaseName: "istio-cni",
    namespace: "istio-system",
    workloads: () => [daemonSet("istio-cni-node", { "k8s-app": "istio-cni-node" })],
  },
  ztunnel: {
    chart: "ztunnel",
    family: "istio",
    releaseName: "ztunnel",
    namespace: "istio-system",
    workloads: () => [daemonSet("ztunnel", { app: "ztunnel" })],
  },
  /** In the gateway namespace from config; named after its release, its pods labelled by `labels`. */
  istioGateway: {
    chart: "gateway",
    family: "istio",
    releaseName: "istio-ingress",
    workloads: (release) => {
      const name = String(value(release, "name") || release.name);
      const labels = (value(release, "labels") ?? {}) as Record<string, string>;
      return [deployment(name, { app: labels.app ?? name, istio: labels.istio ?? name.replace(/^istio-/, "") })];
    },
  },
  /** In external-dns' namespace from config; named after its release. */
  externalDns: {
    chart: "external-dns",
    family: "externalDns",
    releaseName: "external-dns",
    workloads: (release) => [
      deployment(release.name.includes("external-dns") ? release.name : `${release.name}-external-dns`, {
        "app.kubernetes.io/name": "external-dns",
        "app.kubernetes.io/instance": release.name,
      }),
    ],
  },
} as const satisfies Record<string, Chart>;

/**
 * The chart a release of the stack installs, by the chart its Release names: `cilium`, or `oci://…/cilium` from an
 * OCI registry. By name alone, since a mirror serves it from anywhere; no two charts of the stack share a name.
 */
export function chartOf(chart: string): Chart | undefined {
  const name = chart.slice(chart.lastIndexOf("/") + 1);
  return Object.values(charts).find((c: Chart) => c.chart === name);
}

/** A cloudflared release tag (`2026.8.2`): a moving tag such as `latest` would change the binary under us. */
export const CLOUDFLARED_TAG = /^\d{4}\.\d{1,2}\.\d+$/;

/**
 * The Kubernetes minors each pinned release supports, for `npm run preflight`: Istio's "Supported Kubernetes
 * Versions" (istio.io/latest/docs/releases/supported-releases) and Cilium's e2e-tested versions
 * (docs.cilium.io, network/kubernetes/compatibility). Both call older minors unsupported and newer ones untested.
 * `release` is the minor of the pin above; bump this entry with it.
 */
export const supportedKubernetes = {
  cilium: { release: "1.20", oldest: "1.32", newest: "1.36" },
  istio: { release: "1.30", oldest: "1.32", newest: "1.36" },
} as const;
