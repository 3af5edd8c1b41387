/**
 * homecluster:dns:ExternalDns — keeps Cloudflare DNS in sync with the cluster's Services, Ingresses and Istio
 * Gateways/VirtualServices, without ever touching a tunnel hostname (model/dns-ownership.ts).
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
import {
  externalDnsTokenPolicy,
  permissionGroupIds,
  TOKEN_PERMISSION_GROUPS,
  ZONE_SCOPE,
} from "../builders/external-dns-token";
import { externalDnsValues, ISTIO_SOURCES, TOKEN_SECRET } from "../builders/external-dns-values";
import type { ExternalDnsSettings, HelmSettings } from "../config/schema";
import type { HomeclusterOutputs } from "../contract";
import { adoptable, ownNamespace, requireProviders } from "./component";
import { chartRelease } from "../lib/helm";
import { rolloutAnnotation } from "../lib/rollout-hash";
import { TUNNEL_ROUTE_LABEL } from "../model/dns-ownership";
import type { Adoption } from "../model/adoption";
import type { OwnNamespace } from "../model/namespaces";
import { charts } from "../versions";

export interface ExternalDnsArgs {
  /** How releases are installed (`homecluster:helm`: each may take `timeout` seconds, default 600, to be ready). */
  helm: HelmSettings;
  /** `homecluster:externalDns`, with the owner id resolved. */
  externalDns: ExternalDnsSettings;
  /** external-dns' namespace, which this component creates. */
  namespace: OwnNamespace;
  /** The zone's domain and id. */
  domain: string;
  zoneId: string;
  /** The chart version (`versions.externalDns`). */
  version: string;
  /** Where the chart comes from (`charts.externalDns`; default external-dns' Helm repository). */
  repository: string;
  /** `homecluster:externalDnsApiToken`; unset, the component mints a zone-scoped token. */
  apiToken?: pulumi.Output<string>;
  /** The Cilium release: no pod schedules before it. */
  cilium: pulumi.Resource;
  /** Istio's CRDs: the release waits for them when a source reads Istio objects. */
  istioCrds: pulumi.Resource;
  /**
   * What config takes over instead of creating: the namespace, the token's Secret, the release. Never a minted
   * token: Cloudflare never returns a token's value, so an imported one would leave the Secret empty.
   */
  adopt: Adoption;
}

export class ExternalDns extends pulumi.ComponentResource {
  /** What other stacks need to stay out of external-dns' way: the `dns` output. */
  public readonly dns: HomeclusterOutputs["dns"];

  constructor(name: string, args: ExternalDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:dns:ExternalDns", name, {}, opts);
    requireProviders(this, "ExternalDns", args.apiToken === undefined ? ["kubernetes", "cloudflare"] : ["kubernetes"]);
    const { externalDns } = args;

    const namespace = ownNamespace(`${name}-namespace`, args.namespace, args.adopt, { parent: this });
    // The provider marks a minted token's `value` secret only through the engine; marking it here does not depend
    // on that.
    const token = pulumi.secret(args.apiToken ?? this.mintToken(name, args));
    const secret = adoptable(
      args.adopt,
      { kind: "Secret", metadata: { name: TOKEN_SECRET.name, namespace: args.namespace.name } },
      { parent: this, dependsOn: [namespace] },
    );
    const tokenSecret = new k8s.core.v1.Secret(
      `${name}-token-secret`,
      { metadata: secret.object.metadata, type: "Opaque", stringData: { [TOKEN_SECRET.key]: token } },
      secret.opts,
    );
    const readsIstio = externalDns.sources.some((s) => ISTIO_SOURCES.includes(s));
    chartRelease(
      `${name}-release`,
      {
        timeout: args.helm.timeout,
        chart: charts.externalDns,
        repository: args.repository,
        version: args.version,
        namespace: args.namespace.name,
        values: externalDnsValues({
          externalDns,
          domain: args.domain,
          zoneId: args.zoneId,
          podAnnotations: rolloutAnnotation("cloudflare-api-token", token),
        }),
        adopt: args.adopt.releases[charts.externalDns.releaseName],
      },
      {
        parent: this,
        // Istio's CRDs only when a source reads Istio objects, and never istiod or the gateway: each extra edge
        // lengthens the deploy.
        dependsOn: [namespace, tokenSecret, args.cilium, ...(readsIstio ? [args.istioCrds] : [])],
      },
    );
    this.dns = { externalDnsOwnerId: externalDns.txtOwnerId, tunnelRouteLabel: TUNNEL_ROUTE_LABEL };
    this.registerOutputs({ dns: this.dns });
  }

  /** A token allowed only Zone Read and DNS Write on this zone, named after the stack's owner id. */
  private mintToken(name: string, args: ExternalDnsArgs): pulumi.Output<string> {
    const groups = cloudflare.getApiTokenPermissionGroupsListOutput({ scope: ZONE_SCOPE }, { parent: this });
    const token = new cloudflare.ApiToken(
      `${name}-token`,
      {
        name: `external-dns ${args.externalDns.txtOwnerId} (${args.domain})`,
        policies: [
          groups.results.apply((results) =>
            externalDnsTokenPolicy(args.zoneId, permissionGroupIds(results, TOKEN_PERMISSION_GROUPS)),
          ),
        ],
      },
      { parent: this },
    );
    return token.value;
  }
}
