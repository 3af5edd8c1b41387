/**
 * homecluster:cloudflare:Tunnel — public access through a remotely-managed Cloudflare Tunnel.
 *
 * Creates, on the Cloudflare side (no dependency on anything in the cluster, so it runs in parallel with the
 * Helm releases):
 * - a random 32-byte tunnel secret and the tunnel (`configSrc: cloudflare`);
 * - the tunnel's configuration: one ingress rule per route from `tunnelConfig()`, catch-all 404 last;
 * - one proxied CNAME per routed hostname to `<tunnel id>.cfargotunnel.com`.
 *
 * And in the cluster (with the Kubernetes provider):
 * - cloudflared's namespace, the tunnel token in a Secret, the `cloudflared` service account;
 * - cloudflared's Deployment (after the CNI is ready) and its PodDisruptionBudget.
 *
 * The tunnel and its DNS records take `protect` from args: deleting them takes every public app offline.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { isWildcard, type Route } from "../config";
import type { GatewayService as IstioGatewayService } from "./istio";
import { rolloutHash } from "./secret-hash";
import { CLOUDFLARED_TAG } from "./versions";

/** The name cloudflared's service account has; mesh policies allow this principal to reach the gateway. */
export const CLOUDFLARED_SERVICE_ACCOUNT = "cloudflared";
/** cloudflared's metrics server, which also serves `/ready` (200 once a connection to the edge is up). */
export const CLOUDFLARED_METRICS_PORT = 2000;
export const CLOUDFLARED_IMAGE = "docker.io/cloudflare/cloudflared";
/** The distroless image's `nonroot` user. */
export const CLOUDFLARED_UID = 65532;
const TOKEN_SECRET_NAME = "cloudflared-token";
const TOKEN_KEY = "token";
/** Pod annotation holding a hash of the token, so a new token rolls the pods. */
export const TOKEN_HASH_ANNOTATION = "homecluster.io/tunnel-token-sha256";
const SELECTOR = { "app.kubernetes.io/name": "cloudflared" };

/** A few MB per connection; the CPU limit is generous because every public request passes through it. */
export const CLOUDFLARED_RESOURCES = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "1", memory: "256Mi" },
};

// ---------------------------------------------------------------------------------------------------------
// Cloudflare side: pure builders
// ---------------------------------------------------------------------------------------------------------

/** What the tunnel needs of the ingress gateway's Service (the Istio component's `gatewayService`). */
export type GatewayService = Pick<IstioGatewayService, "name" | "namespace" | "port">;

/** The gateway's in-cluster URL that gateway routes are sent to. */
export function gatewayUrl(gateway: GatewayService): string {
  return `http://${gateway.name}.${gateway.namespace}.svc.cluster.local:${gateway.port}`;
}

/** Origin request options, as config holds them. */
export interface OriginRequestSettings {
  /** Seconds to establish the TCP connection to the origin. Default in config: 30. */
  connectTimeoutSeconds: number;
  /** Speak HTTP/2 to the origin (only over https origins). Default in config: false. */
  http2Origin: boolean;
  /** Accept any origin certificate. Default in config: false. */
  noTlsVerify: boolean;
}

/** One tunnel ingress rule; the catch-all has no hostname. */
export interface IngressRule {
  hostname?: string;
  service: string;
}

/** The tunnel configuration, in the provider's field names (`connectTimeout` is in seconds). */
export interface TunnelConfig {
  ingresses: IngressRule[];
  originRequest: { connectTimeout: number; http2Origin: boolean; noTlsVerify: boolean };
}

/** The last rule: anything no route matched gets a 404 from the edge instead of reaching the cluster. */
export const CATCH_ALL_RULE: IngressRule = { service: "http_status:404" };

/**
 * Ingress rules for the routes. Cloudflare matches rules in order, so specific hostnames (in route order)
 * come before wildcards (deeper wildcards first), and the catch-all is last. Pure.
 */
export function tunnelIngressRules(routes: Route[], gatewayServiceUrl: string): IngressRule[] {
  const labels = (r: Route) => r.hostname.split(".").length;
  const specific = routes.filter((r) => !isWildcard(r));
  const wildcards = routes.filter(isWildcard).sort((a, b) => labels(b) - labels(a));
  return [
    ...[...specific, ...wildcards].map((r) => ({
      hostname: r.hostname,
      service: r.kind === "gateway" ? gatewayServiceUrl : r.origin,
    })),
    CATCH_ALL_RULE,
  ];
}

/** The whole tunnel configuration: the ingress rules and the origin options every rule inherits. Pure. */
export function tunnelConfig(routes: Route[], gatewayServiceUrl: string, origin: OriginRequestSettings): TunnelConfig {
  return {
    ingresses: tunnelIngressRules(routes, gatewayServiceUrl),
    originRequest: {
      connectTimeout: origin.connectTimeoutSeconds,
      http2Origin: origin.http2Origin,
      noTlsVerify: origin.noTlsVerify,
    },
  };
}

/** The Pulumi project and stack that own the tunnel's DNS records. */
export interface RecordOwner {
  project: string;
  stack: string;
}

/** The record comment naming the owner (free zones allow 100 characters). */
export function dnsRecordComment(owner: RecordOwner): string {
  return `Cloudflare Tunnel route of Pulumi stack ${owner.project}/${owner.stack}; do not edit by hand`;
}

/**
 * The proxied CNAME of one routed hostname. `name` is the FQDN (apex and `*.` included): provider v6 stores
 * names fully qualified, and a relative name would show a diff on every refresh. TTL 1 is "automatic". Pure.
 */
export function tunnelDnsRecordArgs(
  route: Route,
  zoneId: string,
  cname: pulumi.Input<string>,
  comment: string,
): cloudflare.DnsRecordArgs {
  return { zoneId, name: route.hostname, type: "CNAME", content: cname, proxied: true, ttl: 1, comment };
}

// ---------------------------------------------------------------------------------------------------------
// Cluster side: pure builders
// ---------------------------------------------------------------------------------------------------------

export interface CloudflaredSettings {
  /** Namespace the component creates for cloudflared. Default in config: `cloudflared`. */
  namespace: string;
  /** Replicas, at least 2 so one node's loss keeps the tunnel up. Default in config: 2. */
  replicas: number;
  /** Transport to the edge. Default in config: `http2` (QUIC needs UDP buffers many home nodes lack). */
  protocol: "http2" | "quic" | "auto";
}

export interface CloudflaredDeploymentArgs extends CloudflaredSettings {
  /** cloudflared image tag (a release such as 2026.8.2, never `latest`). */
  version: string;
  /** Name of the Secret holding the tunnel token under the key `token`. */
  tokenSecretName: pulumi.Input<string>;
  /** Hash of the token, put on the pod template so a new token rolls the pods. */
  tokenHash: pulumi.Input<string>;
}

/** cloudflared's Deployment spec: token only through the Secret, hardened, spread over nodes. Pure. */
export function cloudflaredDeploymentSpec(args: CloudflaredDeploymentArgs): k8s.types.input.apps.v1.DeploymentSpec {
  const probe = (initialDelaySeconds: number, failureThreshold: number) => ({
    httpGet: { path: "/ready", port: "metrics" },
    initialDelaySeconds,
    periodSeconds: 10,
    failureThreshold,
  });
  return {
    replicas: args.replicas,
    selector: { matchLabels: SELECTOR },
    // Start the new pod before stopping an old one: the tunnel keeps its connections through a rollout.
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    template: {
      metadata: { labels: SELECTOR, annotations: { [TOKEN_HASH_ANNOTATION]: args.tokenHash } },
      spec: {
        serviceAccountName: CLOUDFLARED_SERVICE_ACCOUNT,
        automountServiceAccountToken: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: CLOUDFLARED_UID,
          runAsGroup: CLOUDFLARED_UID,
          seccompProfile: { type: "RuntimeDefault" },
        },
        // Soft spread: one pod per node where possible, yet a one-node cluster still runs every replica.
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: SELECTOR },
          },
        ],
        containers: [
          {
            name: "cloudflared",
            image: `${CLOUDFLARED_IMAGE}:${args.version}`,
            // `tunnel run` reads TUNNEL_TOKEN; auto-update would replace the pinned binary inside the pod.
            args: [
              "tunnel",
              "--no-autoupdate",
              "--metrics",
              `0.0.0.0:${CLOUDFLARED_METRICS_PORT}`,
              "--protocol",
              args.protocol,
              "run",
            ],
            env: [
              {
                name: "TUNNEL_TOKEN",
                valueFrom: { secretKeyRef: { name: args.tokenSecretName, key: TOKEN_KEY } },
              },
            ],
            ports: [{ name: "metrics", containerPort: CLOUDFLARED_METRICS_PORT, protocol: "TCP" }],
            livenessProbe: probe(10, 3),
            readinessProbe: probe(5, 1),
            resources: CLOUDFLARED_RESOURCES,
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
          },
        ],
      },
    },
  };
}

/** Keeps one cloudflared up through node drains. Pure. */
export function cloudflaredPdbSpec(): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  return { minAvailable: 1, selector: { matchLabels: SELECTOR } };
}

// ---------------------------------------------------------------------------------------------------------
// The component
// ---------------------------------------------------------------------------------------------------------

export interface TunnelArgs {
  /** Cloudflare account that owns the tunnel. Required. */
  accountId: string;
  /** Cloudflare zone of the routed hostnames. Required. */
  zoneId: string;
  /** The tunnel's name in Cloudflare. Default in config: `homecluster`. */
  tunnelName: string;
  /** The normalised routes (config.ts); each becomes one ingress rule and one CNAME. Default: none. */
  routes: Route[];
  /** The Istio ingress gateway's Service, where gateway routes go. Required. */
  gateway: GatewayService;
  /** Origin options for every rule. Default in config: 30 s connect timeout, no HTTP/2, TLS verified. */
  originRequest: OriginRequestSettings;
  /** cloudflared's namespace, replicas and protocol. Default in config: `cloudflared`, 2, `http2`. */
  cloudflared: CloudflaredSettings;
  /** cloudflared image tag. Default: `versions.cloudflared` in components/versions.ts. */
  cloudflaredVersion: string;
  /** Protect the tunnel and its DNS records from deletion. Default in config: true. */
  protect: boolean;
  /** The CNI (Cilium's release): cloudflared's pods wait for it; nothing else here does. */
  cniReady: pulumi.Resource;
  /** The project and stack named in each DNS record's comment, so a reader of the zone knows who owns it. */
  owner: RecordOwner;
}

/** Pass the providers as `{ providers: { cloudflare, kubernetes } }` (or a list): both are required. */
export class Tunnel extends pulumi.ComponentResource {
  public readonly tunnelId: pulumi.Output<string>;
  /** The CNAME target of every routed hostname: `<tunnel id>.cfargotunnel.com`. */
  public readonly cname: pulumi.Output<string>;
  /** Every routed hostname, in ingress-rule order. */
  public readonly hostnames: string[];
  /** cloudflared's namespace (the mesh component enrols it in ambient). */
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: TunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:cloudflare:Tunnel", name, {}, opts);
    for (const pkg of ["cloudflare", "kubernetes"]) {
      if (!this.getProvider(`${pkg}::`)) {
        throw new pulumi.ResourceError(`Tunnel needs an explicit ${pkg} provider in opts.providers`, this);
      }
    }
    if (args.cloudflared.replicas < 2) {
      throw new pulumi.ResourceError(`cloudflared needs at least 2 replicas, got ${args.cloudflared.replicas}`, this);
    }
    if (!CLOUDFLARED_TAG.test(args.cloudflaredVersion)) {
      throw new pulumi.ResourceError(
        `cloudflared version must be a release tag, got '${args.cloudflaredVersion}'`,
        this,
      );
    }
    const duplicate = args.routes.find((r, i) => args.routes.findIndex((o) => o.hostname === r.hostname) !== i);
    if (duplicate) throw new pulumi.ResourceError(`hostname ${duplicate.hostname} is routed twice`, this);

    // Cloudflare side. Nothing here may depend on a cluster resource (see the component header).
    const secret = new random.RandomBytes(`${name}-secret`, { length: 32 }, { parent: this });
    const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(
      `${name}-tunnel`,
      { accountId: args.accountId, name: args.tunnelName, configSrc: "cloudflare", tunnelSecret: secret.base64 },
      { parent: this, protect: args.protect },
    );
    this.tunnelId = tunnel.id;
    this.cname = pulumi.interpolate`${tunnel.id}.cfargotunnel.com`;
    const config = tunnelConfig(args.routes, gatewayUrl(args.gateway), args.originRequest);
    new cloudflare.ZeroTrustTunnelCloudflaredConfig(
      `${name}-config`,
      { accountId: args.accountId, tunnelId: tunnel.id, config },
      { parent: this },
    );
    this.hostnames = config.ingresses.flatMap((rule) => (rule.hostname === undefined ? [] : [rule.hostname]));
    const comment = dnsRecordComment(args.owner);
    for (const route of args.routes) {
      new cloudflare.DnsRecord(
        `${name}-dns-${route.name}`,
        tunnelDnsRecordArgs(route, args.zoneId, this.cname, comment),
        { parent: this, protect: args.protect },
      );
    }
    // The provider does not mark the token secret.
    const token = pulumi.secret(
      cloudflare.getZeroTrustTunnelCloudflaredTokenOutput(
        { accountId: args.accountId, tunnelId: tunnel.id },
        { parent: this },
      ).token,
    );

    // Cluster side.
    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.cloudflared.namespace,
          // cloudflared runs as the restricted profile requires; enforce it so nothing weaker lands here.
          labels: { "pod-security.kubernetes.io/enforce": "restricted" },
        },
      },
      { parent: this },
    );
    const namespace = this.namespace.metadata.name;
    const tokenSecret = new k8s.core.v1.Secret(
      `${name}-token`,
      { metadata: { name: TOKEN_SECRET_NAME, namespace }, type: "Opaque", stringData: { [TOKEN_KEY]: token } },
      { parent: this },
    );
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      { metadata: { name: CLOUDFLARED_SERVICE_ACCOUNT, namespace }, automountServiceAccountToken: false },
      { parent: this },
    );
    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: "cloudflared", namespace, labels: SELECTOR },
        spec: cloudflaredDeploymentSpec({
          ...args.cloudflared,
          version: args.cloudflaredVersion,
          tokenSecretName: tokenSecret.metadata.name,
          tokenHash: rolloutHash(token),
        }),
      },
      { parent: this, dependsOn: [args.cniReady, serviceAccount] },
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: { name: "cloudflared", namespace }, spec: cloudflaredPdbSpec() },
      { parent: this },
    );

    this.registerOutputs({
      tunnelId: this.tunnelId,
      cname: this.cname,
      hostnames: this.hostnames,
      namespace: this.namespace,
      deployment: this.deployment,
    });
  }
}
