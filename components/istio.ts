/**
 * homecluster:mesh:IstioAmbient — Istio in ambient mode (ztunnel, no sidecars) and its ingress gateway.
 *
 * Creates:
 * - the `istio-system` Namespace, labelled PSA `privileged` (Talos enforces `baseline` everywhere but kube-system,
 *   and istio-cni and ztunnel are privileged DaemonSets), and the gateway's Namespace (config/namespaces.ts);
 * - Helm releases of the five official charts at one version, with values from `istioValues()`:
 *   `base` (CRDs) → `istiod` → {`istio-cni`, `ztunnel`}, and the ingress gateway (`istio-ingress`) after istiod,
 *   whose injection webhook its pods need. All after Cilium;
 * - with two gateway replicas or more (`istio.gateway.replicas`, default 2), a PodDisruptionBudget keeping one up
 *   through a drain.
 *
 * The gateway namespace is not enrolled in ambient: the gateway chart labels its pods
 * `istio.io/dataplane-mode: none`, because the gateway is an Envoy proxy of its own. It reaches ambient backends
 * over HBONE with its own mTLS identity (the ambient profile sets ISTIO_META_ENABLE_HBONE, and Envoy proxies
 * originate HBONE). It does not terminate HBONE, though: ambient clients (cloudflared) reach it in plaintext, which
 * is why policies/authorization.ts cannot check their identity at the gateway.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { keepOneUpSpec } from "../builders/disruption-budget";
import { istioValues, type IstioChart } from "../builders/istio-values";
import type { HelmSettings, IstioSettings } from "../config/schema";
import { adoptable, ownNamespace } from "./component";
import { chartRelease } from "../lib/helm";
import { ingressGateway, type IngressGateway } from "../model/ingress-gateway";
import type { Adoption } from "../model/adoption";
import type { OwnNamespaces } from "../model/namespaces";
import { charts, type Chart } from "../versions";

const CHARTS: Record<IstioChart, Chart> = {
  base: charts.istioBase,
  istiod: charts.istiod,
  cni: charts.istioCni,
  ztunnel: charts.ztunnel,
  gateway: charts.istioGateway,
};

export interface IstioAmbientArgs {
  /** How releases are installed (`homecluster:helm`: each may take `timeout` seconds, default 600, to be ready). */
  helm: HelmSettings;
  /** `homecluster:istio`: the gateway's Service, and the per-chart escape hatch. */
  istio: IstioSettings;
  /** The namespaces this component creates: Istio's root namespace and the gateway's. */
  namespaces: Pick<OwnNamespaces, "istioSystem" | "gateway">;
  /** The version of all five charts (`versions.istio`). */
  version: string;
  /** Where the five charts come from (`charts.istio`; default Istio's Helm repository). */
  repository: string;
  /** The Cilium release: every Istio release waits for the CNI. */
  cilium: pulumi.Resource;
  /** What config takes over instead of creating: releases, namespaces, the gateway's budget. */
  adopt: Adoption;
}

export class IstioAmbient extends pulumi.ComponentResource {
  /** Istio's CRDs (the `base` release): Istio custom resources wait for this release only. */
  public readonly crds: k8s.helm.v3.Release;
  /** istio-cni and ztunnel: a namespace joins the mesh only after both run. */
  public readonly dataplane: k8s.helm.v3.Release[];
  /** The ingress gateway's Service, pods and identity (plain values, known at plan time). */
  public readonly gateway: IngressGateway;
  /** The gateway's Namespace: objects in it wait for it. */
  public readonly gatewayNamespace: k8s.core.v1.Namespace;

  constructor(name: string, args: IstioAmbientArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:mesh:IstioAmbient", name, {}, opts);
    const { adopt } = args;
    const systemNamespace = ownNamespace(`${name}-system-namespace`, args.namespaces.istioSystem, adopt, {
      parent: this,
    });
    const gatewayRelease = adopt.releases[charts.istioGateway.releaseName];
    this.gateway = ingressGateway(args.namespaces.gateway.name, gatewayRelease?.name);
    this.gatewayNamespace = ownNamespace(`${name}-gateway-namespace`, args.namespaces.gateway, adopt, {
      parent: this,
    });

    const values = istioValues(args.istio, this.gateway);
    const release = (part: IstioChart, namespace: string, after: pulumi.Resource[]) =>
      chartRelease(
        `${name}-${part}`,
        {
          timeout: args.helm.timeout,
          chart: CHARTS[part],
          repository: args.repository,
          version: args.version,
          namespace,
          values: values[part],
          adopt: adopt.releases[CHARTS[part].releaseName],
        },
        { parent: this, dependsOn: [args.cilium, ...after] },
      );
    this.crds = release("base", charts.istioBase.namespace, [systemNamespace]);
    const istiod = release("istiod", charts.istiod.namespace, [this.crds]);
    this.dataplane = [
      release("cni", charts.istioCni.namespace, [istiod]),
      release("ztunnel", charts.ztunnel.namespace, [istiod]),
    ];
    release("gateway", this.gateway.namespace, [istiod, this.gatewayNamespace]);
    if (args.istio.gateway.replicas > 1) {
      // Not the chart's name (`istio-ingress`): a stack that had the chart's budget gets this one beside it while
      // the release's upgrade removes that, instead of a create that meets it (AlreadyExists).
      const budget = adoptable(
        adopt,
        {
          kind: "PodDisruptionBudget",
          metadata: { name: `${this.gateway.service}-pdb`, namespace: this.gateway.namespace },
        },
        // Named as a plain string for adoption; the budget still waits for its Namespace.
        { parent: this, dependsOn: [this.gatewayNamespace] },
      );
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-gateway-pdb`,
        { metadata: budget.object.metadata, spec: keepOneUpSpec(this.gateway.selector) },
        budget.opts,
      );
    }

    this.registerOutputs({
      crds: this.crds,
      dataplane: this.dataplane,
      gateway: this.gateway,
      gatewayNamespace: this.gatewayNamespace,
    });
  }
}
