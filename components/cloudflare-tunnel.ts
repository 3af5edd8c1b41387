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
 * - cloudflared's Deployment (after Cilium) and its PodDisruptionBudget.
 *
 * The tunnel and its DNS records take `tunnel.protect`: deleting them takes every public app offline. An adopted
 * tunnel (`adopt.tunnel`) is imported with its configuration; its secret stays the one it was made with.
 * Pass the providers as `{ providers: [cloudflare, kubernetes] }`: both are required.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  CLOUDFLARED_LABELS,
  CLOUDFLARED_NAME,
  cloudflaredDeploymentSpec,
  cloudflaredIdentity,
  TUNNEL_TOKEN_SECRET,
} from "../builders/cloudflared-workload";
import { keepOneUpSpec } from "../builders/disruption-budget";
import { routeSummaries, tunnelConfig, tunnelDnsRecordArgs, tunnelIngressRules } from "../builders/tunnel-config";
import type { TunnelSettings } from "../config/schema";
import type { HomeclusterOutputs } from "../contract";
import { adoptable, ownNamespace, requireProviders } from "./component";
import { rolloutAnnotation } from "../lib/rollout-hash";
import type { AccessGuard } from "../model/access";
import type { Adoption } from "../model/adoption";
import { dnsRecordComment, tunnelCnameTarget, type RecordOwner } from "../model/dns-ownership";
import type { WorkloadIdentity } from "../model/identity";
import type { IngressGateway } from "../model/ingress-gateway";
import type { OwnNamespace } from "../model/namespaces";
import type { Route } from "../model/routes";

export interface TunnelArgs {
  /** `homecluster:tunnel`: the tunnel's name, protection, origin options and cloudflared. */
  tunnel: TunnelSettings;
  /** cloudflared's namespace, which this component creates. */
  namespace: OwnNamespace;
  /** The Cloudflare account that owns the tunnel, and the zone of the routed hostnames. */
  accountId: string;
  zoneId: string;
  /** The normalised routes: each becomes one ingress rule and one CNAME. */
  routes: readonly Route[];
  /** The ingress gateway (the IstioAmbient component), where gateway routes go. */
  gateway: IngressGateway;
  /** The cloudflared image tag (`versions.cloudflared`). */
  version: string;
  /** The project and stack named in each DNS record's comment, so a reader of the zone knows who owns it. */
  owner: RecordOwner;
  /** The Cilium release: cloudflared's pods wait for it; nothing else here does. */
  cilium: pulumi.Resource;
  /** Access (the Access component): cloudflared checks the token of each protected route. Unset: none is. */
  access?: AccessGuard;
  /** What config takes over instead of creating: the tunnel and its configuration, records, cloudflared's objects. */
  adopt: Adoption;
}

export class Tunnel extends pulumi.ComponentResource {
  public readonly tunnelId: pulumi.Output<string>;
  /** The CNAME target of every routed hostname, `<tunnel id>.cfargotunnel.com`: the `tunnelCname` output. */
  public readonly tunnelCname: pulumi.Output<string>;
  /** Every routed hostname, in ingress-rule order: the `publicHostnames` output. */
  public readonly publicHostnames: string[];
  /** Each route, where the tunnel sends it: the `routes` output. */
  public readonly routes: HomeclusterOutputs["routes"];
  /** cloudflared's identity, and its Namespace's name (the mesh enrols it once the Namespace exists). */
  public readonly cloudflared: { identity: WorkloadIdentity; namespace: pulumi.Output<string> };

  constructor(name: string, args: TunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:cloudflare:Tunnel", name, {}, opts);
    requireProviders(this, "Tunnel", ["cloudflare", "kubernetes"]);
    const { tunnel: settings, adopt } = args;

    // Cloudflare side. Nothing here may depend on a cluster resource (see the component header).
    const secret = new random.RandomBytes(`${name}-secret`, { length: 32 }, { parent: this });
    const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(
      `${name}-tunnel`,
      { accountId: args.accountId, name: settings.name, configSrc: "cloudflare", tunnelSecret: secret.base64 },
      {
        parent: this,
        protect: settings.protect,
        // Tunnel names are unique in the account: a replacement must delete the old tunnel before creating the new.
        deleteBeforeReplace: true,
        // The secret is write-only (the API never returns it) and only a replacement could change it: an imported
        // tunnel has none in its state and must not be replaced for that, during its adoption or after. configSrc as
        // an import reads it back forces a replacement too: ignored only while adopting.
        ignoreChanges: ["tunnelSecret", ...(adopt.tunnel ? ["configSrc"] : [])],
        ...(adopt.tunnel ? { import: adopt.tunnel } : {}),
      },
    );
    this.tunnelId = tunnel.id;
    this.tunnelCname = tunnel.id.apply(tunnelCnameTarget);
    new cloudflare.ZeroTrustTunnelCloudflaredConfig(
      `${name}-config`,
      {
        accountId: args.accountId,
        tunnelId: tunnel.id,
        config: tunnelConfig(args.routes, args.gateway, settings.originRequest, args.access),
      },
      // A remotely managed tunnel always has its configuration, under the tunnel's own id.
      { parent: this, ...(adopt.tunnel ? { import: adopt.tunnel } : {}) },
    );
    this.publicHostnames = tunnelIngressRules(args.routes, args.gateway).flatMap((rule) => rule.hostname ?? []);
    this.routes = routeSummaries(args.routes, args.gateway);
    const comment = dnsRecordComment(args.owner);
    for (const route of args.routes) {
      const existing = adopt.dnsRecords[route.hostname];
      new cloudflare.DnsRecord(
        `${name}-dns-${route.name}`,
        tunnelDnsRecordArgs(route, args.zoneId, this.tunnelCname, comment),
        // A name holds one CNAME: its replacement (another zone or record type) must delete the old record first.
        {
          parent: this,
          protect: settings.protect,
          deleteBeforeReplace: true,
          ...(existing ? { import: existing } : {}),
        },
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
    const namespace = ownNamespace(`${name}-namespace`, args.namespace, adopt, { parent: this });
    // Each object names its namespace as a plain string (as adoption knows it) and waits for it.
    const inNamespace = (kind: string, metadataName: string, after: pulumi.Resource[] = []) =>
      adoptable(
        adopt,
        { kind, metadata: { name: metadataName, namespace: args.namespace.name } },
        { parent: this, dependsOn: [namespace, ...after] },
      );
    const secretObject = inNamespace("Secret", TUNNEL_TOKEN_SECRET.name);
    const tokenSecret = new k8s.core.v1.Secret(
      `${name}-token`,
      {
        metadata: secretObject.object.metadata,
        type: "Opaque",
        stringData: { [TUNNEL_TOKEN_SECRET.key]: token },
      },
      secretObject.opts,
    );
    const account = inNamespace("ServiceAccount", CLOUDFLARED_NAME);
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      { metadata: account.object.metadata, automountServiceAccountToken: false },
      account.opts,
    );
    const deployment = inNamespace("Deployment", CLOUDFLARED_NAME, [args.cilium, serviceAccount, tokenSecret]);
    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { ...deployment.object.metadata, labels: CLOUDFLARED_LABELS },
        spec: cloudflaredDeploymentSpec({
          cloudflared: settings.cloudflared,
          version: args.version,
          podAnnotations: rolloutAnnotation("tunnel-token", token),
        }),
      },
      deployment.opts,
    );
    const budget = inNamespace("PodDisruptionBudget", CLOUDFLARED_NAME);
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: budget.object.metadata, spec: keepOneUpSpec(CLOUDFLARED_LABELS) },
      budget.opts,
    );

    this.cloudflared = {
      identity: cloudflaredIdentity(args.namespace.name),
      namespace: namespace.metadata.name,
    };
    this.registerOutputs({
      tunnelId: this.tunnelId,
      tunnelCname: this.tunnelCname,
      publicHostnames: this.publicHostnames,
      routes: this.routes,
      cloudflared: this.cloudflared,
    });
  }
}
