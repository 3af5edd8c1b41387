/**
 * homecluster:mesh:MeshPolicies — who is in the mesh, and what the mesh lets through.
 *
 * Creates:
 * - mesh enrolment: a NamespacePatch labelling `istio.io/dataplane-mode=ambient` on each configured namespace and
 *   on cloudflared's, after istio-cni and ztunnel (a pod captured before its node agent runs has no network). The
 *   gateway namespace stays out (the gateway is an Envoy proxy itself), and so does external-dns', which talks only
 *   to the Kubernetes API and Cloudflare: it gains nothing from the mesh and would need allows of its own;
 * - after Istio's CRDs (`base`), the objects `meshPolicyObjects()` builds: STRICT mTLS mesh-wide with config's
 *   exceptions, the default deny and the allows the stack needs under it, and config's ServiceEntries;
 * - with the default deny, the Cilium cluster-wide policy that lets ambient's SNATed kubelet probes in (after the
 *   Cilium release, whose operator registers that CRD).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DirectRoute, InClusterOrigin, Route } from "../config";
import type { AuthorizationPolicy, PeerAuthentication, ServiceEntry } from "../crds/istio";
import {
  allowNothing,
  cloudflaredToOriginAllow,
  configAllow,
  gatewayIngressAllow,
  gatewayToRouteAllow,
  plaintextAllow,
  sameNamespaceAllow,
  type ConfigAllow,
  type WorkloadIdentity,
} from "../policies/authorization";
import { ambientProbePolicy } from "../policies/cilium";
import { meshStrictMtls, mtlsException, type MtlsException } from "../policies/peer-authentication";
import { serviceEntry, type ExternalService } from "../policies/service-entries";
import { typedCustomResource } from "./custom-resource";
import { gatewayRoutes } from "./ingress-routes";
import { ISTIO_NAMESPACE, type GatewayService } from "./istio";

/** The label that puts a namespace's pods into the ambient mesh. */
export const AMBIENT_LABEL = { "istio.io/dataplane-mode": "ambient" };

export interface MeshPolicySettings {
  /** Deny whatever no ALLOW policy lets in, and create the allows below. Default in config: true. */
  defaultDeny: boolean;
  /** Allow traffic within each mesh namespace (under the default deny). Default in config: true. */
  allowSameNamespace: boolean;
  /** Namespaces from config to enrol in ambient (they must exist). Default in config: none. */
  meshNamespaces: string[];
  /** Workloads that accept plaintext from clients outside the mesh. Default in config: none. */
  mtlsExceptions: MtlsException[];
  /** Explicit allows from config. Default in config: none. */
  allow: ConfigAllow[];
  /** External services to register. Default in config: none. */
  serviceEntries: ExternalService[];
  /**
   * The normalised routes: each gateway route gets an allow from the gateway, each in-cluster direct origin one from
   * cloudflared. Default in config: none.
   */
  routes: Route[];
  /** The ingress gateway (IstioAmbient.gatewayService). Required. */
  gateway: GatewayService;
  /** cloudflared's namespace and service account. Required. */
  cloudflared: WorkloadIdentity;
}

/** One object to register, with the suffix of its Pulumi resource name. */
export interface MeshPolicyObject {
  key: string;
  object: PeerAuthentication | AuthorizationPolicy | ServiceEntry;
}

/**
 * Every Istio policy object of the mesh. Pure: tested directly. The allows exist only with the default deny: an
 * ALLOW policy also denies everything it does not match to the workloads it selects, so without the default deny
 * they would turn into piecemeal denies.
 */
export function meshPolicyObjects(settings: MeshPolicySettings): MeshPolicyObject[] {
  // Mesh-wide policies live in Istio's root namespace.
  const out: MeshPolicyObject[] = [{ key: "mtls-strict", object: meshStrictMtls(ISTIO_NAMESPACE) }];
  settings.mtlsExceptions.forEach((exception, i) =>
    out.push({ key: `mtls-exception-${i}`, object: mtlsException(exception, i) }),
  );
  if (settings.defaultDeny) {
    const gateway = { namespace: settings.gateway.namespace, serviceAccount: settings.gateway.serviceAccount };
    out.push(
      { key: "allow-nothing", object: allowNothing(ISTIO_NAMESPACE) },
      {
        key: "allow-http-ingress",
        object: gatewayIngressAllow({
          namespace: settings.gateway.namespace,
          selector: settings.gateway.selector,
          httpPort: settings.gateway.port,
        }),
      },
      // Only enrolled namespaces enforce policies: a route kept outside the mesh (`mesh: false`) gets no allow.
      ...gatewayRoutes(settings.routes)
        .filter((route) => route.mesh)
        .map((route) => ({ key: `allow-gateway-to-${route.name}`, object: gatewayToRouteAllow(route, gateway) })),
      ...settings.routes
        .filter((r): r is DirectRoute & { inCluster: InClusterOrigin } => r.kind === "direct" && !!r.inCluster?.mesh)
        .map((route) => ({
          key: `allow-cloudflared-to-${route.name}`,
          object: cloudflaredToOriginAllow(route, settings.cloudflared),
        })),
      ...(settings.allowSameNamespace
        ? settings.meshNamespaces.map((ns) => ({ key: `allow-same-namespace-${ns}`, object: sameNamespaceAllow(ns) }))
        : []),
      ...settings.allow.map((rule, i) => ({ key: `allow-config-${i}`, object: configAllow(rule, i) })),
      ...settings.mtlsExceptions.map((exception, i) => ({
        key: `allow-plaintext-${i}`,
        object: plaintextAllow(exception, i),
      })),
    );
  }
  settings.serviceEntries.forEach((entry) =>
    out.push({ key: `service-entry-${entry.namespace}-${entry.name}`, object: serviceEntry(entry) }),
  );
  return out;
}

export interface MeshPoliciesArgs extends MeshPolicySettings {
  /**
   * cloudflared's Namespace name (the Namespace's `metadata.name` output, so enrolment waits for it). Default: none
   * (cloudflared's namespace is not enrolled).
   */
  cloudflaredNamespace?: pulumi.Input<string>;
  /** Istio's `base` release (the policy CRDs). Required. */
  istioBase: pulumi.Resource;
  /** istio-cni and ztunnel: enrolment waits for both. Required. */
  dataplane: pulumi.Resource[];
  /** The gateway's Namespace, where the gateway's allow lives. Required. */
  gatewayNamespace: pulumi.Resource;
  /** The Cilium release (cilium-operator registers the cluster-wide policy CRD). Required. */
  cilium: pulumi.Resource;
}

export class MeshPolicies extends pulumi.ComponentResource {
  public readonly enrolments: k8s.core.v1.NamespacePatch[];
  /** Enrolled namespaces: config's, then cloudflared's. */
  public readonly meshNamespaces: pulumi.Output<string[]>;
  public readonly policies: k8s.apiextensions.CustomResource[];
  /** Undefined without the default deny. */
  public readonly probePolicy: k8s.apiextensions.CustomResource | undefined;

  constructor(name: string, args: MeshPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:mesh:MeshPolicies", name, {}, opts);
    const duplicate = args.meshNamespaces.find((ns, i) => args.meshNamespaces.indexOf(ns) !== i);
    if (duplicate) throw new pulumi.ResourceError(`namespace ${duplicate} is listed twice for the mesh`, this);
    if (args.meshNamespaces.includes(args.gateway.namespace)) {
      throw new pulumi.ResourceError(`the gateway namespace ${args.gateway.namespace} must stay out of ambient`, this);
    }

    const enrol = (key: string, namespace: pulumi.Input<string>) =>
      new k8s.core.v1.NamespacePatch(
        `${name}-enrol-${key}`,
        { metadata: { name: namespace, labels: AMBIENT_LABEL } },
        { parent: this, dependsOn: args.dataplane },
      );
    this.enrolments = [
      ...args.meshNamespaces.map((ns) => enrol(ns, ns)),
      ...(args.cloudflaredNamespace !== undefined ? [enrol("cloudflared", args.cloudflaredNamespace)] : []),
    ];
    this.meshNamespaces = pulumi.output([
      ...args.meshNamespaces,
      ...(args.cloudflaredNamespace !== undefined ? [args.cloudflaredNamespace] : []),
    ]);

    this.policies = meshPolicyObjects(args).map(({ key, object }) =>
      typedCustomResource(`${name}-${key}`, object, {
        parent: this,
        dependsOn:
          object.metadata.namespace === args.gateway.namespace
            ? [args.istioBase, args.gatewayNamespace]
            : [args.istioBase],
      }),
    );
    this.probePolicy = args.defaultDeny
      ? typedCustomResource(`${name}-ambient-probes`, ambientProbePolicy("allow-ambient-probes"), {
          parent: this,
          dependsOn: [args.cilium],
        })
      : undefined;

    this.registerOutputs({
      enrolments: this.enrolments,
      meshNamespaces: this.meshNamespaces,
      policies: this.policies,
      probePolicy: this.probePolicy,
    });
  }
}
