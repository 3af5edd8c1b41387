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
  cloudflared: "2025.11.1",
};

export type Versions = typeof defaultVersions;

/** Helm repositories of the pinned charts. */
export const chartRepos = {
  cilium: "https://helm.cilium.io",
  istio: "https://istio-release.storage.googleapis.com/charts",
  externalDns: "https://kubernetes-sigs.github.io/external-dns",
} as const;

/** A cloudflared release tag (`2025.11.1`): a moving tag such as `latest` would change the binary under us. */
export const CLOUDFLARED_TAG = /^\d{4}\.\d{1,2}\.\d+$/;
