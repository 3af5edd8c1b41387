/** Helm values of the external-dns chart: Cloudflare, one zone, the TXT registry, and the tunnel-route filter. */
import type * as pulumi from "@pulumi/pulumi";
import type { ExternalDnsSettings } from "../config/schema";
import type { HelmValues } from "../lib/helm";
import { EXTERNAL_DNS_LABEL_FILTER } from "../model/dns-ownership";

/** The Secret external-dns reads its Cloudflare token from, and the key inside it. */
export const TOKEN_SECRET = { name: "cloudflare-api-token", key: "api-token" } as const;

/**
 * TXT registry prefix. The record-type placeholder keeps the TXT name apart from the record it describes (a CNAME
 * allows no other record at its name); the trailing dot makes it a label of its own, so the TXT of the apex stays
 * inside the zone and the prefix takes no length from the host's label.
 */
const TXT_PREFIX = "%{record_type}-edns.";

/** Sources that read Istio objects, and so need Istio's CRDs installed first. */
export const ISTIO_SOURCES: readonly string[] = ["istio-gateway", "istio-virtualservice"];

export interface ExternalDnsValuesArgs {
  externalDns: ExternalDnsSettings;
  /** The zone's domain; external-dns touches no name outside it. */
  domain: string;
  /** The zone's id; external-dns touches no other zone. */
  zoneId: string;
  /** Pod annotations: the token's rollout hash (lib/rollout-hash.ts). */
  podAnnotations?: Record<string, pulumi.Input<string>>;
}

export function externalDnsValues({ externalDns, domain, zoneId, podAnnotations }: ExternalDnsValuesArgs): HelmValues {
  return {
    provider: { name: "cloudflare" },
    // The token only ever reaches the pod through the Secret, never as a value in the release.
    env: [{ name: "CF_API_TOKEN", valueFrom: { secretKeyRef: { name: TOKEN_SECRET.name, key: TOKEN_SECRET.key } } }],
    // The chart generates its ClusterRole from this list.
    sources: externalDns.sources,
    domainFilters: [domain],
    registry: "txt",
    txtOwnerId: externalDns.txtOwnerId,
    txtPrefix: TXT_PREFIX,
    policy: externalDns.policy,
    interval: externalDns.interval,
    logLevel: externalDns.logLevel,
    // Skips the Istio objects that serve tunnel hostnames: their DNS records belong to Pulumi.
    labelFilter: EXTERNAL_DNS_LABEL_FILTER,
    // The chart renders these as --zone-id-filter=<id> and --cloudflare-proxied. Unproxied is external-dns' own
    // default, so without `proxied` no flag is passed and an object may still opt in by annotation.
    extraArgs: { "zone-id-filter": zoneId, ...(externalDns.proxied ? { "cloudflare-proxied": true } : {}) },
    serviceMonitor: { enabled: externalDns.serviceMonitor },
    // One small reconcile loop every interval.
    resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "128Mi" } },
    ...(podAnnotations ? { podAnnotations } : {}),
    // The chart's defaults already meet the restricted Pod Security Standard; pinned here so a chart upgrade
    // cannot loosen them unnoticed.
    podSecurityContext: { runAsNonRoot: true, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
    securityContext: {
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      capabilities: { drop: ["ALL"] },
    },
  };
}
