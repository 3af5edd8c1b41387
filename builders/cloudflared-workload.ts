/**
 * cloudflared in the cluster: its Deployment (hardened, spread over nodes, the token only through a Secret); its
 * PodDisruptionBudget is builders/disruption-budget.ts'. Names and labels here are the ones doctor looks for.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { TunnelSettings } from "../config/schema";
import type { WorkloadIdentity } from "../model/identity";

/** The Deployment's (and PodDisruptionBudget's) name and its pods' labels. */
export const CLOUDFLARED_NAME = "cloudflared";
export const CLOUDFLARED_LABELS = { "app.kubernetes.io/name": CLOUDFLARED_NAME } as const;
/** The Secret holding the tunnel token, and its key. */
export const TUNNEL_TOKEN_SECRET = { name: "cloudflared-token", key: "token" } as const;
/** cloudflared's metrics server, which also serves `/ready` (200 once a connection to the edge is up). */
const METRICS_PORT = 2000;
const IMAGE = "docker.io/cloudflare/cloudflared";
/** The distroless image's `nonroot` user. */
const UID = 65532;

/** cloudflared's mesh identity: its service account in its namespace. */
export function cloudflaredIdentity(namespace: string): WorkloadIdentity {
  return { namespace, serviceAccount: CLOUDFLARED_NAME };
}

interface CloudflaredDeploymentArgs {
  cloudflared: TunnelSettings["cloudflared"];
  /** The image tag (`versions.cloudflared`). */
  version: string;
  /** Pod annotations: the token's rollout hash (lib/rollout-hash.ts), so a new token rolls the pods. */
  podAnnotations: Record<string, pulumi.Input<string>>;
}

export function cloudflaredDeploymentSpec(args: CloudflaredDeploymentArgs): k8s.types.input.apps.v1.DeploymentSpec {
  const probe = (initialDelaySeconds: number, failureThreshold: number) => ({
    httpGet: { path: "/ready", port: "metrics" },
    initialDelaySeconds,
    periodSeconds: 10,
    failureThreshold,
  });
  return {
    replicas: args.cloudflared.replicas,
    selector: { matchLabels: CLOUDFLARED_LABELS },
    // Start the new pod before stopping an old one: the tunnel keeps its connections through a rollout.
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    template: {
      metadata: { labels: CLOUDFLARED_LABELS, annotations: args.podAnnotations },
      spec: {
        serviceAccountName: CLOUDFLARED_NAME,
        automountServiceAccountToken: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: UID,
          runAsGroup: UID,
          seccompProfile: { type: "RuntimeDefault" },
        },
        // Soft spread: one pod per node where possible, yet a one-node cluster still runs every replica.
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: CLOUDFLARED_LABELS },
          },
        ],
        containers: [
          {
            name: CLOUDFLARED_NAME,
            image: `${IMAGE}:${args.version}`,
            // `tunnel run` reads TUNNEL_TOKEN; auto-update would replace the pinned binary inside the pod.
            args: [
              "tunnel",
              "--no-autoupdate",
              "--metrics",
              `0.0.0.0:${METRICS_PORT}`,
              "--protocol",
              args.cloudflared.protocol,
              "run",
            ],
            env: [
              {
                name: "TUNNEL_TOKEN",
                valueFrom: { secretKeyRef: { name: TUNNEL_TOKEN_SECRET.name, key: TUNNEL_TOKEN_SECRET.key } },
              },
            ],
            ports: [{ name: "metrics", containerPort: METRICS_PORT, protocol: "TCP" }],
            livenessProbe: probe(10, 3),
            readinessProbe: probe(5, 1),
            // A few MB per connection; the CPU limit is generous because every public request passes through it.
            resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
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
