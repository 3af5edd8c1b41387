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

const ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts";

/** A chart, its repository and the name of its release. */
export interface Chart {
  chart: string;
  repo: string;
  /** The release name `helm list` shows. */
  releaseName: string;
  /** Where it is installed, unless config decides. */
  namespace?: string;
}

/**
 * Every Helm release the stack installs: the chart, its repository, and the release name `helm list` shows (the
 * names the upstream install guides use). `namespace` is fixed where the stack does not take it from config.
 */
export const charts = {
  cilium: { chart: "cilium", repo: "https://helm.cilium.io", releaseName: "cilium", namespace: "kube-system" },
  istioBase: { chart: "base", repo: ISTIO_REPO, releaseName: "istio-base", namespace: "istio-system" },
  istiod: { chart: "istiod", repo: ISTIO_REPO, releaseName: "istiod", namespace: "istio-system" },
  istioCni: { chart: "cni", repo: ISTIO_REPO, releaseName: "istio-cni", namespace: "istio-system" },
  ztunnel: { chart: "ztunnel", repo: ISTIO_REPO, releaseName: "ztunnel", namespace: "istio-system" },
  /** In the gateway namespace from config. */
  istioGateway: { chart: "gateway", repo: ISTIO_REPO, releaseName: "istio-ingress" },
  /** In external-dns' namespace from config. */
  externalDns: {
    chart: "external-dns",
    repo: "https://kubernetes-sigs.github.io/external-dns",
    releaseName: "external-dns",
  },
} as const satisfies Record<string, Chart>;

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
