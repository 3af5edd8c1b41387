/**
 * homecluster:mesh:MeshPolicies — who is in the mesh, and what the mesh lets through.
 *
 * Creates:
 * - mesh enrolment: a NamespacePatch labelling `istio.io/dataplane-mode=ambient` on each configured namespace and
 *   on cloudflared's, after istio-cni and ztunnel (a pod captured before its node agent runs has no network). Each
 *   configured namespace is read first: a server-side apply patch would create a namespace that does not exist (a
 *   typo in config would leave a stray one behind), so a missing one fails the preview instead, naming it. The
 *   gateway namespace stays out (the gateway is an Envoy proxy itself), and so does external-dns', which talks only
 *   to the Kubernetes API and Cloudflare: it gains nothing from the mesh and would need allows of its own;
 * - after Istio's CRDs, the objects `meshPolicyObjects()` builds: STRICT mTLS mesh-wide with config's exceptions,
 *   the default deny and the allows the stack needs under it, and config's ServiceEntries;
 * - with the default deny, the Cilium cluster-wide policy that lets ambient's SNATed kubelet probes in (after the
 *   Cilium release, whose operator registers that CRD).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { IstioSettings } from "../config/schema";
import type { Adoption } from "../model/adoption";
import { ownCustomResource } from "./component";
import type { WorkloadIdentity } from "../model/identity";
import type { IngressGateway } from "../model/ingress-gateway";
import { AMBIENT_LABEL } from "../model/mesh";
import type { Route } from "../model/routes";
import { ambientProbePolicy } from "../policies/ambient-probes";
import { meshPolicyObjects } from "../policies/mesh";

export interface MeshPoliciesArgs {
  /** `homecluster:istio`: mesh namespaces, default deny, exceptions, allows, ServiceEntries. */
  istio: IstioSettings;
  /** The normalised routes: each gets the allow that lets the gateway or cloudflared reach it. */
  routes: readonly Route[];
  /** What Istio provides (the IstioAmbient component): CRDs, node agents, the gateway and its Namespace. */
  mesh: {
    crds: pulumi.Resource;
    dataplane: pulumi.Resource[];
    gateway: IngressGateway;
    gatewayNamespace: pulumi.Resource;
  };
  /** cloudflared (the Tunnel component): its identity, and its Namespace's name (enrolment waits for it). */
  cloudflared: { identity: WorkloadIdentity; namespace: pulumi.Output<string> };
  /** The Cilium release: its operator registers the cluster-wide policy CRD. */
  cilium: pulumi.Resource;
  /** What config takes over instead of creating: policies an old setup left under the stack's names. */
  adopt: Pick<Adoption, "objects">;
}

export class MeshPolicies extends pulumi.ComponentResource {
  /** Enrolled namespaces: config's, then cloudflared's. */
  public readonly meshNamespaces: pulumi.Output<string[]>;

  constructor(name: string, args: MeshPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:mesh:MeshPolicies", name, {}, opts);
    const { mesh } = args;
    const enrol = (key: string, namespace: pulumi.Input<string>, after: pulumi.Resource[] = []) =>
      new k8s.core.v1.NamespacePatch(
        `${name}-enrol-${key}`,
        { metadata: { name: namespace, labels: AMBIENT_LABEL } },
        { parent: this, dependsOn: [...mesh.dataplane, ...after] },
      );
    for (const ns of args.istio.meshNamespaces) {
      // The patch names the namespace as config does and waits for the read, which fails the preview when it is
      // missing; the read's own outputs are not needed.
      const existing = k8s.core.v1.Namespace.get(`${name}-namespace-${ns}`, ns, { parent: this });
      enrol(ns, ns, [existing]);
    }
    // Keyed by its name like the others (config refuses it in meshNamespaces), so no configured namespace's key
    // can collide with it; the Output makes the patch wait for the Namespace.
    enrol(args.cloudflared.identity.namespace, args.cloudflared.namespace);
    this.meshNamespaces = pulumi
      .all([args.istio.meshNamespaces, args.cloudflared.namespace])
      .apply(([configured, cloudflared]) => [...configured, cloudflared]);

    const inputs = {
      istio: args.istio,
      routes: args.routes,
      gateway: mesh.gateway,
      cloudflared: args.cloudflared.identity,
    };
    for (const { key, object } of meshPolicyObjects(inputs)) {
      const inGatewayNamespace = object.metadata.namespace === mesh.gateway.namespace;
      ownCustomResource(`${name}-${key}`, object, args.adopt, {
        parent: this,
        dependsOn: inGatewayNamespace ? [mesh.crds, mesh.gatewayNamespace] : [mesh.crds],
      });
    }
    // Whatever Istio's default deny: the probes need it under any Cilium default deny (the user's own policies
    // included), and it only ever adds.
    ownCustomResource(`${name}-ambient-probes`, ambientProbePolicy("allow-ambient-probes"), args.adopt, {
      parent: this,
      dependsOn: [args.cilium],
    });
    this.registerOutputs({ meshNamespaces: this.meshNamespaces });
  }
}
