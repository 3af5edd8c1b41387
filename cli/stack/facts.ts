/**
 * What preflight and doctor know about the stack: plain data, derived from the program's resource graph (a run of
 * the real program offline, cli/stack/load.ts) and its config. The checks and the API clients read only this; none
 * of them imports the program.
 */
export { COMPUTED } from "../../offline/computed";

export type WorkloadKind = "Deployment" | "DaemonSet";

/** A workload by kind, namespace and name. */
export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

/** A workload the stack runs, from a chart's declaration (versions.ts) or the stack's own resources. */
export interface Workload extends WorkloadRef {
  /** The heading it is checked under (`Cilium`, `Istio`, `external-dns`, `Tunnel`). */
  component: string;
  /** The Helm release that renders it; undefined for the stack's own. */
  release?: string;
}

/** The Kubernetes minors a chart release supports; no bounds when the project has no data for the version in use. */
export interface KubernetesSupport {
  chart: string;
  version: string;
  oldest?: string;
  newest?: string;
}

/** A Cloudflare API token permission group the stack's token needs, where, and for what. */
export interface TokenNeed {
  /** The group's name in the API (`DNS Write`; the dashboard says `DNS: Edit`). */
  group: string;
  scope: "account" | "zone" | "user";
  purpose: string;
}

/** An object the stack creates, as the program sends it; a value a provider computes is COMPUTED. */
export interface ExpectedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
}

/** A Kubernetes object the stack creates (`pulumi up` fails when it exists already), and its place in the graph. */
export interface CreatedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | undefined;
  /** Its Pulumi type, name and URN, and its parent's URN: what `pulumi import` needs to adopt it. */
  pulumi: { type: string; name: string; urn: string; parent: string | undefined };
  /** `homecluster:adopt` names it: the stack imports it rather than creating it. */
  adopted: boolean;
}

/** A Helm release the stack installs. */
export interface StackRelease {
  /** The name `helm list` shows: the stack's own, or the adopted release's. */
  release: string;
  namespace: string;
  chart: string;
  version: string;
  /** The stack's own name for it: its key in `homecluster:adopt.releases`. */
  key: string;
  /** The values the stack sets. */
  values: Record<string, unknown>;
  /** `homecluster:adopt` names it: the stack upgrades it rather than installing it. */
  adopted: boolean;
}

/** The tunnel configuration as the Cloudflare API holds it (the provider's `noTlsVerify` is the API's `noTLSVerify`). */
export interface RemoteTunnelConfig {
  /**
   * `access`: the rule must require Access's token (`originRequest.access.required`), with this team when the stack
   * knows it before `up`; its application `aud` is Cloudflare's to give.
   */
  ingress: { hostname?: string; service: string; access?: { teamName?: string } }[];
  originRequest: { connectTimeout: number; http2Origin: boolean; noTLSVerify: boolean };
}

/** A route that lands on a Service in the cluster, and the container port the mesh's allow admits. */
export interface RoutedService {
  configKey: string;
  hostname: string;
  service: string;
  namespace: string;
  /** The Service port the route sends to. */
  port: number;
  /** The port the route's allow admits (the container port ztunnel matches); undefined when no allow applies. */
  allowPort: number | undefined;
}

/** Everything the checks know about the stack. */
export interface StackFacts {
  project: string;
  stack: string;
  stackFile: string;
  domain: string;
  kubernetes: {
    context: string;
    /** `homecluster:kubeconfig`, a path or the kubeconfig itself; undefined: $KUBECONFIG or ~/.kube/config. */
    kubeconfig: string | undefined;
    distribution: "talos" | "k3s" | "kubeadm";
    support: KubernetesSupport[];
    /** Cilium replaces kube-proxy (from the chart values the stack renders). */
    kubeProxyReplacement: boolean;
    /** Cilium encrypts pod traffic with WireGuard, which needs Linux 5.6 or newer on every node. */
    wireguard: boolean;
    /** Namespaces the stack writes into, labels or reads without creating them, and what needs each. */
    namespaces: { name: string; neededBy: string[] }[];
    /** The Helm releases the stack installs. */
    releases: StackRelease[];
    /** The Kubernetes objects the stack creates itself (not its Helm releases'). */
    objects: CreatedObject[];
  };
  /** Every workload the stack runs, charts' and its own. */
  workloads: Workload[];
  cilium: {
    /** Where its release, and its `cilium-config` ConfigMap, are. */
    namespace: string;
    lbPool: { description: string; object: ExpectedObject; contains: (address: string) => boolean };
    l2Policy: ExpectedObject;
  };
  istio: {
    /** Namespaces the stack enrols in ambient. */
    meshNamespaces: string[];
    ambientLabel: { key: string; value: string };
    /** istiod, whose log tells whether it fetched Access's keys. */
    istiod: WorkloadRef | undefined;
    /** The JWKS URI of Access's keys the gateway's RequestAuthentication names, when a gateway route is protected. */
    jwksUri: string | undefined;
  };
  /** The custom resources the stack creates (Istio's and Cilium's), as it sets them. */
  customObjects: ExpectedObject[];
  gateway: {
    namespace: string;
    service: string;
    serviceType: "ClusterIP" | "LoadBalancer";
    loadBalancerIP: string | undefined;
  };
  /** The routes whose backend is a Service in the cluster. */
  routes: RoutedService[];
  externalDns: { deployment: WorkloadRef | undefined };
  tunnel: {
    name: string;
    cloudflared: WorkloadRef;
    /** Routed hostnames, in ingress-rule order. */
    hostnames: string[];
    config: RemoteTunnelConfig;
    /** The comment on the stack's own DNS records: how a record's owner is told apart. */
    recordComment: string;
    /** The CNAME target of the routed hostnames, from the tunnel's id. */
    cnameTarget: (tunnelId: string) => string;
  };
  cloudflare: {
    accountId: string;
    zoneId: string;
    tokenNeeds: TokenNeed[];
    /** Some route is behind Cloudflare Access. */
    access: boolean;
    /** The stack mints external-dns' token (no `externalDnsApiToken`): the stack's token must be a user's. */
    mintsToken: boolean;
    /** `homecluster:access.teamDomain`, when config names the team rather than looking it up. */
    teamDomain: string | undefined;
    /** The hostname of each Access application the stack makes. */
    accessApplications: string[];
    /** The name of each Access policy the stack makes. */
    accessPolicies: string[];
    /** What config adopts on the Cloudflare side (`homecluster:adopt`). */
    adopted: { tunnel?: string; dnsRecords: Record<string, string> };
  };
}
