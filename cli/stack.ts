/**
 * The CLI's only door into the project. It reads a stack's config the way the Pulumi CLI hands it to the program
 * (cli/pulumi-config-gate.ts applies Pulumi.yaml's defaults under the stack file's values), validates it with the
 * config module, and derives from the project's own modules — the chart table, the model, the pure builders —
 * everything preflight and doctor need to know about what the stack deploys, as one plain `StackFacts`. Checks and
 * commands take StackFacts and import no project module, so a change of the project's layout touches this file only.
 *
 * Secrets are not read: the commands take the Cloudflare token from CLOUDFLARE_API_TOKEN.
 */
import * as pulumi from "@pulumi/pulumi";
import { teamName } from "../builders/access-objects";
import { ciliumValues } from "../builders/cilium-values";
import { cloudflaredIdentity, CLOUDFLARED_LABELS } from "../builders/cloudflared-workload";
import { l2AnnouncementPolicy, lbIpPool } from "../builders/lb-ipam";
import { tunnelConfig } from "../builders/tunnel-config";
import { parseConfigValues, type StackConfig } from "../config/load";
import { preconditions, type TokenNeed } from "../config/preconditions";
import { blockRange, describeBlock } from "../config/checks";
import { rangeContains } from "../lib/net";
import { dnsRecordComment, tunnelCnameTarget } from "../model/dns-ownership";
import { ingressGateway } from "../model/ingress-gateway";
import { AMBIENT_LABEL } from "../model/mesh";
import { protectedRoutes } from "../model/routes";
import { meshPolicyObjects } from "../policies/mesh";
import { charts, supportedKubernetes } from "../versions";
import { applyProjectConfig, PulumiCliError } from "./pulumi-config-gate";
import { readProjectFile, readStackFile, StackFileError, stackFilePath } from "./stack-files";

export type WorkloadKind = "Deployment" | "DaemonSet";

/** A workload by name, or by its labels where the project fixes those rather than the name. */
export type WorkloadRef = { kind: WorkloadKind; namespace: string } & (
  { name: string } | { labels: Record<string, string> }
);

/** The Kubernetes minors a chart release supports; no bounds when the project has no data for the version in use. */
export interface KubernetesSupport {
  chart: string;
  version: string;
  oldest?: string;
  newest?: string;
}

export type { TokenNeed };

/** A custom resource the stack creates, as its builder returns it. */
export interface ExpectedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: unknown;
}

/** The tunnel configuration as the Cloudflare API holds it (the provider's `noTlsVerify` is the API's `noTLSVerify`). */
export interface RemoteTunnelConfig {
  /**
   * `access`: the rule must require Access's token (`originRequest.access.required`), with this team when config
   * names it; its application `aud` is Cloudflare's to give.
   */
  ingress: { hostname?: string; service: string; access?: { teamName?: string } }[];
  originRequest: { connectTimeout: number; http2Origin: boolean; noTLSVerify: boolean };
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
    distribution: StackConfig["distribution"];
    support: KubernetesSupport[];
    /** Cilium replaces kube-proxy (from the chart values the stack renders). */
    kubeProxyReplacement: boolean;
    /** Namespaces the stack writes into or labels without creating them. */
    namespaces: { name: string; neededBy: string[] }[];
    /** The Helm releases the stack installs. */
    releases: { release: string; namespace: string; chart: string }[];
  };
  cilium: {
    agent: WorkloadRef;
    operator: WorkloadRef;
    /** Undefined when the values disable Hubble Relay. */
    hubbleRelay: WorkloadRef | undefined;
    lbPool: { description: string; object: ExpectedObject; contains: (address: string) => boolean };
    l2Policy: ExpectedObject;
  };
  istio: {
    istiod: WorkloadRef;
    ztunnel: WorkloadRef;
    cni: WorkloadRef;
    gateway: WorkloadRef;
    /** Namespaces the stack enrols in ambient. */
    meshNamespaces: string[];
    ambientLabel: { key: string; value: string };
    /** The mesh's PeerAuthentications, AuthorizationPolicies and ServiceEntries. */
    policies: ExpectedObject[];
  };
  gateway: {
    namespace: string;
    service: string;
    serviceType: "ClusterIP" | "LoadBalancer";
    loadBalancerIP: string | undefined;
  };
  externalDns: { deployment: WorkloadRef };
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
  };
}

/** A stack file or config that cannot be used; the message is one line naming the file or the key. */
export class StackError extends Error {
  override name = "StackError";
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function minor(version: string): string {
  return version.split(".").slice(0, 2).join(".");
}

function support(chart: string, version: string, data: { release: string; oldest: string; newest: string }) {
  return minor(version) === data.release
    ? { chart, version, oldest: data.oldest, newest: data.newest }
    : { chart, version };
}

/** A nested Helm value, or undefined. */
function valueAt(values: unknown, keys: string[]): unknown {
  return keys.reduce<unknown>((node, key) => (isMap(node) ? node[key] : undefined), values);
}

export interface LoadOptions {
  stack: string;
  /** Default: Pulumi.<stack>.yaml in the project. */
  stackFile?: string;
  /** $KUBECONFIG: where the checks find the cluster when `homecluster:kubeconfig` is encrypted. */
  kubeconfigEnv?: string;
}

/** Reads and validates the stack's config and derives its facts; throws StackError with one line. */
export function loadStackFacts(options: LoadOptions): StackFacts {
  try {
    const project = readProjectFile();
    const stackFile = options.stackFile ?? stackFilePath(options.stack);
    const file = readStackFile(stackFile);
    // `pulumi config get`'s view: Pulumi.yaml's defaults under the stack's values, no secret decrypted.
    const handed = applyProjectConfig(project, options.stack, file, () => "", { validate: false });
    const config = parseConfigValues(handed.config, options.stack);
    const kubeconfigKey = `${project.name}:kubeconfig`;
    if (handed.secretKeys.includes(kubeconfigKey) && !options.kubeconfigEnv) {
      // Falling back to ~/.kube/config could check another cluster than the one the stack deploys to.
      throw new StackError(
        `${kubeconfigKey} is encrypted, and these checks decrypt no secret: write it to a file (pulumi config get kubeconfig > kubeconfig.yaml) and run them with KUBECONFIG=kubeconfig.yaml`,
      );
    }
    const externalDnsToken = file.config?.[`${project.name}:externalDnsApiToken`];
    const mintsToken = externalDnsToken === undefined || externalDnsToken === "";
    return stackFacts(config, { project: project.name, stack: options.stack, stackFile, mintsToken });
  } catch (error) {
    // A user's mistake in the config or its files: one line (a config error lists its keys on one line too).
    if (error instanceof pulumi.RunError || error instanceof StackFileError || error instanceof PulumiCliError) {
      throw new StackError(error.message.replace(/:\n {2}- /, ": ").replaceAll("\n  - ", "; "));
    }
    throw error;
  }
}

/** The facts of a validated config. */
function stackFacts(
  config: StackConfig,
  origin: { project: string; stack: string; stackFile: string; mintsToken: boolean },
): StackFacts {
  const needs = preconditions(config, origin.mintsToken);
  const values = ciliumValues({
    cilium: config.cilium,
    distribution: config.distribution,
    podCidrs: config.network.podCidrs,
  });
  const kubeProxyReplacement = valueAt(values, ["kubeProxyReplacement"]);
  const ciliumNamespace = charts.cilium.namespace;
  const istioNamespace = charts.istiod.namespace;
  const pool = config.cilium.lbPool.map(blockRange);
  const gateway = ingressGateway(config.istio.gateway.namespace);
  const cloudflaredNamespace = config.tunnel.cloudflared.namespace;
  const guarded = new Set(protectedRoutes(config.routes).map((route) => route.hostname));
  const access = guarded.size > 0;
  const remote = tunnelConfig(config.routes, gateway, config.tunnel.originRequest);
  const [ambientKey, ambientValue] = Object.entries(AMBIENT_LABEL)[0]!;

  return {
    project: origin.project,
    stack: origin.stack,
    stackFile: origin.stackFile,
    domain: config.domain,
    kubernetes: {
      context: config.kubeContext,
      kubeconfig: config.kubeconfig,
      distribution: config.distribution,
      support: [
        support(charts.cilium.chart, config.versions.cilium, supportedKubernetes.cilium),
        support("istio", config.versions.istio, supportedKubernetes.istio),
      ],
      kubeProxyReplacement: kubeProxyReplacement === true || kubeProxyReplacement === "true",
      namespaces: needs.namespaces,
      releases: needs.releases.map((r) => ({ release: r.releaseName, namespace: r.namespace, chart: r.chart })),
    },
    cilium: {
      // The names the Cilium chart gives its workloads.
      agent: { kind: "DaemonSet", namespace: ciliumNamespace, name: "cilium" },
      operator: { kind: "Deployment", namespace: ciliumNamespace, name: "cilium-operator" },
      hubbleRelay:
        valueAt(values, ["hubble", "relay", "enabled"]) === true
          ? { kind: "Deployment", namespace: ciliumNamespace, name: "hubble-relay" }
          : undefined,
      lbPool: {
        description: config.cilium.lbPool.map(describeBlock).join(", "),
        // The component names its objects after its own resource name; the checks find them by their spec.
        object: lbIpPool("expected", config.cilium.lbPool),
        contains: (address) => pool.some((range) => rangeContains(range, address)),
      },
      l2Policy: l2AnnouncementPolicy("expected", config.cilium.l2),
    },
    istio: {
      // The names the Istio charts give their workloads; the gateway's is its release name.
      istiod: { kind: "Deployment", namespace: istioNamespace, name: "istiod" },
      ztunnel: { kind: "DaemonSet", namespace: istioNamespace, name: "ztunnel" },
      cni: { kind: "DaemonSet", namespace: istioNamespace, name: "istio-cni-node" },
      gateway: { kind: "Deployment", namespace: gateway.namespace, name: gateway.service },
      // MeshPolicies enrols cloudflared's namespace next to config's.
      meshNamespaces: [...config.istio.meshNamespaces, cloudflaredNamespace],
      ambientLabel: { key: ambientKey, value: ambientValue },
      policies: meshPolicyObjects({
        istio: config.istio,
        routes: config.routes,
        gateway,
        cloudflared: cloudflaredIdentity(cloudflaredNamespace),
      }).map(({ object }) => object),
    },
    gateway: {
      namespace: gateway.namespace,
      service: gateway.service,
      serviceType: config.istio.gateway.serviceType,
      loadBalancerIP: config.istio.gateway.loadBalancerIP,
    },
    // The external-dns chart names its Deployment after the release.
    externalDns: {
      deployment: { kind: "Deployment", namespace: config.externalDns.namespace, name: charts.externalDns.releaseName },
    },
    tunnel: {
      name: config.tunnel.name,
      cloudflared: { kind: "Deployment", namespace: cloudflaredNamespace, labels: { ...CLOUDFLARED_LABELS } },
      hostnames: remote.ingresses.flatMap((rule) => (rule.hostname === undefined ? [] : [rule.hostname])),
      config: {
        // The application `aud` tags are Cloudflare's to give; the check wants Access required on these rules.
        ingress: remote.ingresses.map((rule) => ({
          ...rule,
          ...(rule.hostname !== undefined && guarded.has(rule.hostname)
            ? { access: config.access.teamDomain ? { teamName: teamName(config.access.teamDomain) } : {} }
            : {}),
        })),
        originRequest: {
          connectTimeout: remote.originRequest.connectTimeout,
          http2Origin: remote.originRequest.http2Origin,
          noTLSVerify: remote.originRequest.noTlsVerify,
        },
      },
      recordComment: dnsRecordComment(config.owner),
      cnameTarget: tunnelCnameTarget,
    },
    cloudflare: {
      accountId: config.cloudflareAccountId,
      zoneId: config.cloudflareZoneId,
      tokenNeeds: needs.tokenNeeds,
      access,
    },
  };
}
