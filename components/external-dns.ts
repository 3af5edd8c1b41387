/**
 * homecluster:dns:ExternalDns — keeps Cloudflare DNS in sync with the cluster's Services, Ingresses and Istio
 * Gateways/VirtualServices, without ever touching a tunnel hostname (see dns-ownership.ts).
 *
 * Creates:
 * - its namespace (not enrolled in the mesh: external-dns only calls out, to the API server and Cloudflare);
 * - unless an existing token is given, a Cloudflare `ApiToken` allowed only Zone Read and DNS Write on this one
 *   zone, with permission group ids looked up through the provider;
 * - a Kubernetes Secret holding that token, the only place it is stored;
 * - a Helm release of the official `external-dns` chart, values from `externalDnsValues()`, after Cilium and
 *   (for the Istio sources) after Istio's CRDs; a hash of the token on its pods rolls them when the token changes.
 *
 * Pass the providers as `{ providers: [cloudflare, kubernetes] }`; the Cloudflare one is only used to mint.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { HomeclusterConfig } from "../config";
import { EXTERNAL_DNS_LABEL_FILTER } from "./dns-ownership";
import { chartRelease, type HelmValues } from "./helm";
import { rolloutHash } from "./secret-hash";
import { charts } from "./versions";

type ExternalDnsConfig = HomeclusterConfig["externalDns"];
export type ExternalDnsSource = ExternalDnsConfig["sources"][number];
export type ExternalDnsPolicy = ExternalDnsConfig["policy"];
export type ExternalDnsLogLevel = ExternalDnsConfig["logLevel"];

/** The Secret external-dns reads its Cloudflare token from, and the key inside it. */
export const TOKEN_SECRET_NAME = "cloudflare-api-token";
export const TOKEN_SECRET_KEY = "api-token";
/** Pod annotation holding a hash of the token: external-dns reads it only at start, so a new token must roll it. */
export const TOKEN_HASH_ANNOTATION = "homecluster.io/cloudflare-api-token-sha256";

/**
 * TXT registry prefix. The record-type placeholder keeps the TXT name apart from the record it describes (a
 * CNAME allows no other record at its name); the trailing dot makes it a label of its own, so the TXT of the
 * apex stays inside the zone and the prefix takes no length from the host's label.
 */
export const TXT_PREFIX = "%{record_type}-edns.";

/** Sources that read Istio objects, and so need Istio's CRDs installed first. */
export const ISTIO_SOURCES: readonly ExternalDnsSource[] = ["istio-gateway", "istio-virtualservice"];

/** Container resources: one small reconcile loop every interval. */
export const EXTERNAL_DNS_RESOURCES = {
  requests: { cpu: "10m", memory: "64Mi" },
  limits: { memory: "128Mi" },
};

export interface ExternalDnsValuesArgs {
  /** The zone's domain; external-dns touches no name outside it. */
  domain: string;
  /** The zone's id; external-dns touches no other zone. */
  zoneId: string;
  /** Objects external-dns reads. Default in config: service, ingress, istio-gateway, istio-virtualservice. */
  sources: ExternalDnsSource[];
  /** `sync` deletes the records it owns when their object goes; `upsert-only` never deletes. Default in config: `sync`. */
  policy: ExternalDnsPolicy;
  /** Create every record proxied through Cloudflare (LAN addresses then stop working). Default in config: false. */
  proxied: boolean;
  /** Reconcile interval such as `1m`. Default in config: `1m`. */
  interval: string;
  /** Default in config: `info`. */
  logLevel: ExternalDnsLogLevel;
  /** TXT registry owner id, unique to this stack. Default in config: `homecluster-<stack>`. */
  txtOwnerId: string;
  /** Create a Prometheus Operator ServiceMonitor. Default in config: false. */
  serviceMonitor: boolean;
}

/**
 * Helm values of the external-dns chart; `tokenHash` (see secret-hash.ts) becomes a pod annotation. Pure: tested
 * directly.
 */
export function externalDnsValues(args: ExternalDnsValuesArgs, tokenHash?: pulumi.Input<string>): HelmValues {
  return {
    provider: { name: "cloudflare" },
    // The token only ever reaches the pod through the Secret, never as a value in the release.
    env: [
      {
        name: "CF_API_TOKEN",
        valueFrom: { secretKeyRef: { name: TOKEN_SECRET_NAME, key: TOKEN_SECRET_KEY } },
      },
    ],
    // The chart generates its ClusterRole from this list.
    sources: args.sources,
    domainFilters: [args.domain],
    registry: "txt",
    txtOwnerId: args.txtOwnerId,
    txtPrefix: TXT_PREFIX,
    policy: args.policy,
    interval: args.interval,
    logLevel: args.logLevel,
    // Skips the Istio objects that serve tunnel hostnames: their DNS records belong to Pulumi.
    labelFilter: EXTERNAL_DNS_LABEL_FILTER,
    // The chart renders these as --zone-id-filter=<id> and --cloudflare-proxied. Unproxied is external-dns' own
    // default, so without `proxied` no flag is passed and an object may still opt in by annotation.
    extraArgs: { "zone-id-filter": args.zoneId, ...(args.proxied ? { "cloudflare-proxied": true } : {}) },
    serviceMonitor: { enabled: args.serviceMonitor },
    resources: EXTERNAL_DNS_RESOURCES,
    ...(tokenHash === undefined ? {} : { podAnnotations: { [TOKEN_HASH_ANNOTATION]: tokenHash } }),
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

/** The permission groups external-dns' token needs, by their Cloudflare names (UI: Zone:Read, DNS:Edit). */
export const TOKEN_PERMISSION_GROUPS = ["Zone Read", "DNS Write"] as const;
/** The scope of zone-level permission groups, used to look them up. */
export const ZONE_SCOPE = "com.cloudflare.api.account.zone";

/** One token policy, as the v6 provider takes it (`resources` is a JSON-encoded object). */
export interface TokenPolicy {
  effect: "allow";
  permissionGroups: { id: string }[];
  resources: string;
}

/**
 * The ids of the named permission groups, in the order of `names`. Pure. Throws naming the first group the
 * lookup did not return, so a renamed group fails the deploy instead of minting a weaker token.
 */
export function permissionGroupIds(
  groups: ReadonlyArray<{ id: string; name: string }>,
  names: ReadonlyArray<string>,
): string[] {
  return names.map((name) => {
    const group = groups.find((g) => g.name === name);
    if (!group) throw new Error(`Cloudflare has no API token permission group named '${name}'`);
    return group.id;
  });
}

/** The one policy of external-dns' token: the given permission groups on exactly one zone. Pure. */
export function externalDnsTokenPolicy(zoneId: string, permissionGroupIds: string[]): TokenPolicy {
  return {
    effect: "allow",
    permissionGroups: permissionGroupIds.map((id) => ({ id })),
    resources: JSON.stringify({ [`${ZONE_SCOPE}.${zoneId}`]: "*" }),
  };
}

export interface ExternalDnsArgs extends ExternalDnsValuesArgs {
  /** Exact chart version. */
  version: string;
  /** Namespace the component creates for external-dns. Default in config: `external-dns`. */
  namespace: string;
  /**
   * An existing Cloudflare token (Zone Read + DNS Edit on the zone). Default: none, and the component mints a
   * zone-scoped one with the Cloudflare provider, which needs the right to create API tokens.
   */
  apiToken?: pulumi.Input<string>;
  /** The CNI release: no pod schedules before it. */
  cniReady: pulumi.Resource;
  /** Istio's CRD release (`base`). Required when an Istio source is enabled. Default: none. */
  istioCrds?: pulumi.Resource;
}

export class ExternalDns extends pulumi.ComponentResource {
  public readonly namespace: k8s.core.v1.Namespace;
  /** The minted token; undefined when an existing token was given. */
  public readonly apiToken: cloudflare.ApiToken | undefined;
  /** The Secret holding the token external-dns uses. */
  public readonly tokenSecret: k8s.core.v1.Secret;
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: ExternalDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:dns:ExternalDns", name, {}, opts);
    // Without explicit providers the objects would land wherever the environment's kube context and Cloudflare
    // credentials happen to point.
    const needed = args.apiToken === undefined ? ["kubernetes", "cloudflare"] : ["kubernetes"];
    for (const pkg of needed) {
      if (!this.getProvider(`${pkg}::`)) {
        throw new pulumi.ResourceError(`ExternalDns needs an explicit ${pkg} provider in opts.providers`, this);
      }
    }
    const istioSources = args.sources.filter((s) => ISTIO_SOURCES.includes(s));
    if (istioSources.length > 0 && !args.istioCrds) {
      throw new pulumi.ResourceError(
        `external-dns sources ${istioSources.join(", ")} need Istio's CRDs: pass istioCrds (the Istio base release)`,
        this,
      );
    }

    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.namespace,
          labels: { "pod-security.kubernetes.io/enforce": "restricted" },
        },
      },
      { parent: this },
    );

    let token: pulumi.Output<string>;
    if (args.apiToken === undefined) {
      const groups = cloudflare.getApiTokenPermissionGroupsListOutput({ scope: ZONE_SCOPE }, { parent: this });
      this.apiToken = new cloudflare.ApiToken(
        `${name}-token`,
        {
          name: `external-dns ${args.txtOwnerId} (${args.domain})`,
          policies: [
            groups.results.apply((results) =>
              externalDnsTokenPolicy(args.zoneId, permissionGroupIds(results, TOKEN_PERMISSION_GROUPS)),
            ),
          ],
        },
        { parent: this },
      );
      // The provider marks `value` secret only through the engine; marking it here does not depend on that.
      token = pulumi.secret(this.apiToken.value);
    } else {
      this.apiToken = undefined;
      token = pulumi.secret(args.apiToken);
    }

    this.tokenSecret = new k8s.core.v1.Secret(
      `${name}-token-secret`,
      {
        metadata: { name: TOKEN_SECRET_NAME, namespace: this.namespace.metadata.name },
        type: "Opaque",
        stringData: { [TOKEN_SECRET_KEY]: token },
      },
      { parent: this },
    );

    this.release = chartRelease(
      `${name}-release`,
      {
        chart: charts.externalDns,
        version: args.version,
        namespace: args.namespace,
        values: externalDnsValues(args, rolloutHash(token)),
      },
      {
        parent: this,
        // Istio's CRDs only when a source reads Istio objects, and never istiod or the gateway: each extra edge
        // lengthens the deploy.
        dependsOn: [
          this.namespace,
          this.tokenSecret,
          args.cniReady,
          ...(istioSources.length > 0 && args.istioCrds ? [args.istioCrds] : []),
        ],
      },
    );

    this.registerOutputs({
      namespace: this.namespace,
      apiToken: this.apiToken,
      tokenSecret: this.tokenSecret,
      release: this.release,
    });
  }
}
