/**
 * The CLI's one door into the program. It runs the real program offline (offline/stack-run.ts: the stack file as the
 * Pulumi CLI hands it over, the mock runtime as a preview before anything exists) and reads what the commands need
 * from its resource graph and its config: the plan's resources, the preconditions of an `up`, and the facts
 * preflight and doctor check. Nothing here lists what a component creates: a release, namespace or object added to
 * a component shows up in all of them.
 *
 * Secrets are not read: the commands take the Cloudflare token from CLOUDFLARE_API_TOKEN.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HomeclusterConfig } from "../../config/schema";
import { warnings } from "../../config/warnings";
import { blockRange, describeBlock } from "../../config/checks";
import { rangeContains } from "../../lib/net";
import { tunnelCnameTarget } from "../../model/dns-ownership";
import { ingressGateway } from "../../model/ingress-gateway";
import { AMBIENT_LABEL } from "../../model/mesh";
import { componentOf, namespacesOf, objectsOf, releasesOf, valueAt, type DeclaredObject } from "../../offline/graph";
import { PulumiCliError } from "../../offline/config-gate";
import type { MockRun } from "../../offline/mock-runtime";
import { runStackOffline, type OfflineStack } from "../../offline/stack-run";
import { StackFileError } from "../../offline/stack-files";
import { chartOf, charts, supportedKubernetes } from "../../versions";
import {
  COMPUTED,
  type CreatedObject,
  type ExpectedObject,
  type KubernetesSupport,
  type RemoteTunnelConfig,
  type RoutedService,
  type StackFacts,
  type TokenNeed,
  type Workload,
} from "./facts";
import { StackError } from "./errors";
import { preconditions, type Preconditions } from "./preconditions";
import { tokenNeeds } from "./token-needs";

/** The stack, read through the program. */
export interface Stack {
  offline: OfflineStack;
  facts: StackFacts;
  preconditions: Preconditions;
  warnings: string[];
}

export interface LoadOptions {
  stack: string;
  /** Default: Pulumi.<stack>.yaml in the project. */
  stackFile?: string;
  /** $KUBECONFIG: where the checks find the cluster when `homecluster:kubeconfig` is encrypted. */
  kubeconfigEnv?: string;
  /** Imports the program; default: index.ts (tests import it through their own module loader). */
  load?: () => Promise<Record<string, unknown>>;
}

/** Runs the stack offline and reads it; throws StackError with one line for a user's mistake. */
export async function loadStack(options: LoadOptions): Promise<Stack> {
  let offline: OfflineStack;
  try {
    offline = await runStackOffline({
      stack: options.stack,
      ...(options.stackFile ? { stackFile: options.stackFile } : {}),
      load: options.load ?? (() => import("../../index.js")),
    });
  } catch (error) {
    // A config error lists its keys on several lines; here it is one.
    // RunError by its brand: the program may run with another copy of the SDK module (the tests load it afresh).
    if (pulumi.RunError.isInstance(error) || error instanceof StackFileError || error instanceof PulumiCliError) {
      throw new StackError(error.message.replace(/:\n {2}- /, ": ").replaceAll("\n  - ", "; "));
    }
    throw error;
  }
  const kubeconfigKey = `${offline.project}:kubeconfig`;
  const kubeconfigEncrypted = offline.secretKeys.includes(kubeconfigKey);
  if (kubeconfigEncrypted && !options.kubeconfigEnv) {
    // Falling back to ~/.kube/config could check another cluster than the one the stack deploys to.
    throw new StackError(
      `${kubeconfigKey} is encrypted, and these checks decrypt no secret: write it to a file (pulumi config get kubeconfig > kubeconfig.yaml) and run them with KUBECONFIG=kubeconfig.yaml`,
    );
  }
  const facts = stackFacts(offline, { kubeconfigEncrypted });
  return {
    offline,
    facts,
    preconditions: preconditions(offline, facts),
    warnings: warnings(offline.config),
  };
}

function minor(version: string): string {
  return version.split(".").slice(0, 2).join(".");
}

function support(chart: string, version: string, data: { release: string; oldest: string; newest: string }) {
  return minor(version) === data.release
    ? { chart, version, oldest: data.oldest, newest: data.newest }
    : { chart, version };
}

/** The heading of a component's checks, from its type token (`homecluster:mesh:IstioAmbient` → `Istio`). */
const HEADINGS: Record<string, string> = {
  "homecluster:networking:Cilium": "Cilium",
  "homecluster:mesh:IstioAmbient": "Istio",
  "homecluster:dns:ExternalDns": "external-dns",
  "homecluster:cloudflare:Tunnel": "Tunnel",
};
const heading = (component: string) => HEADINGS[component.split(" ")[0]!] ?? component;

/** An object's values with COMPUTED where a provider decides (an Access application's `aud`, say). */
function expected(o: DeclaredObject): ExpectedObject {
  const { metadata } = o.object;
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: {
      name: metadata.name,
      ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
      ...(metadata.labels ? { labels: metadata.labels } : {}),
    },
    ...("spec" in o.object ? { spec: o.object.spec } : {}),
  };
}

/** The workloads the charts render (their declarations in versions.ts) and the stack's own Deployments. */
function workloadsOf(run: MockRun, objects: readonly DeclaredObject[]): Workload[] {
  const charted = releasesOf(run).flatMap((release) => {
    const chart = chartOf(release.chart);
    return (chart?.workloads({ name: release.release, values: release.values }) ?? []).map((w) => ({
      kind: w.kind,
      namespace: release.namespace,
      name: w.name,
      component: heading(componentOf(release.resource, run.resources)),
      release: release.release,
    }));
  });
  const own = objects
    .filter((o) => o.mode === "create" && (o.kind === "Deployment" || o.kind === "DaemonSet"))
    .map((o) => ({
      kind: o.kind as Workload["kind"],
      namespace: o.namespace ?? "",
      name: o.name,
      component: heading(componentOf(o.resource, run.resources)),
    }));
  return [...charted, ...own];
}

/** The remote configuration the stack sets on the tunnel (the API's field names). */
function remoteTunnelConfig(run: MockRun): RemoteTunnelConfig {
  const resource = run.resources.find((r) => r.type.endsWith(":ZeroTrustTunnelCloudflaredConfig"));
  const config = resource?.inputs.config as {
    ingresses: { hostname?: string; service: string; originRequest?: { access?: { teamName: string } } }[];
    originRequest: { connectTimeout: number; http2Origin: boolean; noTlsVerify: boolean };
  };
  return {
    ingress: config.ingresses.map(({ hostname, service, originRequest }) => {
      const team = originRequest?.access?.teamName;
      const access = originRequest?.access ? { access: team === COMPUTED ? {} : { teamName: team } } : {};
      return { ...(hostname !== undefined ? { hostname } : {}), service, ...access };
    }),
    originRequest: {
      connectTimeout: config.originRequest.connectTimeout,
      http2Origin: config.originRequest.http2Origin,
      noTLSVerify: config.originRequest.noTlsVerify,
    },
  };
}

/** Each route whose backend is a Service here, and the port its allow (as the program created it) admits. */
function routedServices(config: HomeclusterConfig, objects: readonly DeclaredObject[]): RoutedService[] {
  const allows = objects.filter((o) => o.kind === "AuthorizationPolicy");
  return config.routes.flatMap((route) => {
    const backend = route.backend;
    if (!backend) return [];
    // The allow the program made for this route, if any: the one naming it in its namespace.
    const allow = allows.find(
      (o) => o.namespace === backend.namespace && o.name.endsWith(`-to-${route.name}`) && o.mode === "create",
    );
    const rules = (allow?.object.spec as { rules?: { to?: { operation: { ports?: string[] } }[] }[] } | undefined)
      ?.rules;
    const port = rules?.[0]?.to?.[0]?.operation.ports?.[0];
    return [
      {
        configKey: route.configKey,
        hostname: route.hostname,
        service: backend.service,
        namespace: backend.namespace,
        port: backend.port,
        allowPort: port === undefined ? undefined : Number(port),
      },
    ];
  });
}

function stackFacts(offline: OfflineStack, { kubeconfigEncrypted }: { kubeconfigEncrypted: boolean }): StackFacts {
  const { run, config } = offline;
  const objects = objectsOf(run);
  const releases = releasesOf(run);
  const ciliumValues = releases.find((r) => r.chart === "cilium")?.values ?? {};
  const gatewayRelease = releases.find((r) => r.chart === "gateway");
  const gateway = ingressGateway(
    config.namespaces.gateway.name,
    config.adopt.releases[charts.istioGateway.releaseName]?.name,
  );
  const pool = config.cilium.lbPool.map(blockRange);
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind && o.mode === "create");
  const [ambientKey, ambientValue] = Object.entries(AMBIENT_LABEL)[0]!;
  const workloads = workloadsOf(run, objects);
  const tunnelConfig = remoteTunnelConfig(run);
  const tunnel = run.resources.find((r) => r.type.endsWith(":ZeroTrustTunnelCloudflared"));
  const record = run.resources.find((r) => r.type.endsWith(":DnsRecord"));
  const jwt = ofKind("RequestAuthentication")[0];
  const jwksUri = (jwt?.object.spec as { jwtRules?: { jwksUri: string }[] } | undefined)?.jwtRules?.[0]?.jwksUri;
  const created: CreatedObject[] = objects
    .filter((o) => o.mode === "create")
    .map((o) => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.name,
      namespace: o.namespace,
      pulumi: { type: o.resource.type, name: o.resource.name, urn: o.resource.urn, parent: o.resource.parent },
      adopted: o.resource.importId !== undefined,
    }));
  const supportOf: KubernetesSupport[] = [
    support("cilium", config.versions.cilium, supportedKubernetes.cilium),
    support("istio", config.versions.istio, supportedKubernetes.istio),
  ];
  const encryption = valueAt(ciliumValues, "encryption") as { enabled?: boolean; type?: string } | undefined;
  const kubeProxyReplacement = valueAt(ciliumValues, "kubeProxyReplacement");
  const service = valueAt(gatewayRelease?.values, "service") as
    { type?: string; annotations?: Record<string, string> } | undefined;
  const istiod = workloads.find((w) => w.release === releases.find((r) => r.chart === "istiod")?.release);
  const externalDns = workloads.find((w) => w.release === releases.find((r) => r.chart === "external-dns")?.release);
  const cloudflared = workloads.find((w) => w.release === undefined && w.component === "Tunnel");
  return {
    project: offline.project,
    stack: offline.stack,
    stackFile: offline.stackFile,
    domain: config.domain,
    kubernetes: {
      context: config.kubeContext,
      kubeconfig: kubeconfigEncrypted ? undefined : config.kubeconfig,
      distribution: config.distribution,
      support: supportOf,
      kubeProxyReplacement: kubeProxyReplacement === true || kubeProxyReplacement === "true",
      wireguard: encryption?.enabled === true && encryption.type === "wireguard",
      namespaces: namespacesOf(run).required,
      releases: releases.map((r) => ({
        release: r.release,
        namespace: r.namespace,
        chart: chartOf(r.chart)?.chart ?? r.chart,
        version: r.version,
        key: chartOf(r.chart)?.releaseName ?? r.release,
        values: r.values,
        adopted: r.resource.importId !== undefined,
      })),
      objects: created,
    },
    workloads,
    cilium: {
      namespace: releases.find((r) => r.chart === "cilium")?.namespace ?? "kube-system",
      lbPool: {
        description: config.cilium.lbPool.map(describeBlock).join(", "),
        object: expected(ofKind("CiliumLoadBalancerIPPool")[0]!),
        contains: (address) => pool.some((range) => rangeContains(range, address)),
      },
      l2Policy: expected(ofKind("CiliumL2AnnouncementPolicy")[0]!),
    },
    istio: {
      meshNamespaces: objects
        .filter(
          (o) =>
            o.kind === "Namespace" && o.mode === "patch" && o.object.metadata.labels?.[ambientKey] === ambientValue,
        )
        .map((o) => o.name),
      ambientLabel: { key: ambientKey, value: ambientValue },
      istiod: istiod && { kind: istiod.kind, namespace: istiod.namespace, name: istiod.name },
      jwksUri: jwksUri === COMPUTED ? undefined : jwksUri,
    },
    customObjects: objects
      .filter((o) => o.mode === "create" && /(^|\.)(istio|cilium)\.io\//.test(o.apiVersion))
      .map(expected),
    gateway: {
      namespace: gatewayRelease?.namespace ?? gateway.namespace,
      service: gatewayRelease?.release ?? gateway.service,
      serviceType: service?.type === "LoadBalancer" ? "LoadBalancer" : "ClusterIP",
      loadBalancerIP: service?.annotations?.["lbipam.cilium.io/ips"],
    },
    routes: routedServices(config, objects),
    externalDns: {
      deployment: externalDns && { kind: externalDns.kind, namespace: externalDns.namespace, name: externalDns.name },
    },
    tunnel: {
      name: String(tunnel?.inputs.name),
      cloudflared: {
        kind: "Deployment",
        namespace: cloudflared?.namespace ?? config.namespaces.cloudflared.name,
        name: cloudflared?.name ?? "cloudflared",
      },
      hostnames: tunnelConfig.ingress.flatMap((rule) => (rule.hostname === undefined ? [] : [rule.hostname])),
      config: tunnelConfig,
      recordComment: String(record?.inputs.comment ?? ""),
      cnameTarget: tunnelCnameTarget,
    },
    cloudflare: {
      accountId: config.cloudflareAccountId,
      zoneId: config.cloudflareZoneId,
      tokenNeeds: tokenNeeds(run),
      access: run.resources.some((r) => r.type.endsWith(":ZeroTrustAccessApplication")),
      mintsToken: run.resources.some((r) => r.type.endsWith(":ApiToken")),
      teamDomain: config.access.teamDomain,
      accessApplications: run.resources
        .filter((r) => r.type.endsWith(":ZeroTrustAccessApplication"))
        .map((r) => String(r.inputs.domain)),
      accessPolicies: run.resources
        .filter((r) => r.type.endsWith(":ZeroTrustAccessPolicy"))
        .map((r) => String(r.inputs.name)),
      adopted: {
        ...(config.adopt.tunnel ? { tunnel: config.adopt.tunnel } : {}),
        dnsRecords: config.adopt.dnsRecords,
      },
    },
  };
}

export type { TokenNeed };
