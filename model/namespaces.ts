/** A namespace the stack creates and owns, and the Pod Security level it enforces there. */
export interface OwnNamespace {
  name: string;
  /** Enforced (`pod-security.kubernetes.io/enforce`), so nothing weaker than the stack's own workloads lands there. */
  podSecurity?: "restricted" | "privileged";
}

/** Every namespace the stack creates, by the part of it that lives there. */
export interface OwnNamespaces {
  /** Istio's root namespace: istiod, istio-cni and ztunnel (privileged DaemonSets), the mesh-wide policies. */
  istioSystem: OwnNamespace;
  /** The ingress gateway: not enrolled in ambient, the gateway is an Envoy proxy of its own. */
  gateway: OwnNamespace;
  /** cloudflared, enrolled in the mesh. */
  cloudflared: OwnNamespace;
  /** external-dns, outside the mesh: it talks only to the Kubernetes API and Cloudflare. */
  externalDns: OwnNamespace;
}
