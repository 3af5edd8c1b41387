/**
 * homecluster:networking:Cilium — the cluster's CNI.
 *
 * Creates:
 * - a Helm release of the official `cilium` chart in `kube-system`, with values from `ciliumValues()`;
 * - after the release is ready, a `CiliumLoadBalancerIPPool` (cilium.io/v2) and a `CiliumL2AnnouncementPolicy`
 *   (cilium.io/v2alpha1). cilium-operator registers both CRDs at run time, so they wait for the release.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ciliumValues, type CiliumValuesArgs } from "../builders/cilium-values";
import { l2AnnouncementPolicy, lbIpPool } from "../builders/lb-ipam";
import type { LbPoolBlock } from "../crds/cilium-io";
import type { HelmSettings } from "../config/schema";
import { chartRelease } from "../lib/helm";
import type { Adoption } from "../model/adoption";
import { charts } from "../versions";
import { ownCustomResource } from "./component";

export interface CiliumArgs extends CiliumValuesArgs {
  /** How releases are installed (`homecluster:helm`: each may take `timeout` seconds, default 600, to be ready). */
  helm: HelmSettings;
  /** The chart version (`versions.cilium`). */
  version: string;
  /** Where the chart comes from (`charts.cilium`; default Cilium's Helm repository). */
  repository: string;
  /** What config takes over instead of creating: the release, the LB pool and L2 policy. */
  adopt: Adoption;
}

export class Cilium extends pulumi.ComponentResource {
  /** The Helm release; everything that needs a working CNI depends on it. */
  public readonly release: k8s.helm.v3.Release;
  /** The LB IPAM pool's blocks: the `lbPools` output. */
  public readonly lbPools: pulumi.Output<LbPoolBlock[]>;

  constructor(name: string, args: CiliumArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:networking:Cilium", name, {}, opts);
    this.release = chartRelease(
      `${name}-release`,
      {
        timeout: args.helm.timeout,
        chart: charts.cilium,
        repository: args.repository,
        version: args.version,
        namespace: charts.cilium.namespace,
        values: ciliumValues(args),
        adopt: args.adopt.releases[charts.cilium.releaseName],
      },
      { parent: this },
    );
    const afterRelease = { parent: this, dependsOn: [this.release] };
    const pool = lbIpPool(`${name}-lb-pool`, args.cilium.lbPool);
    ownCustomResource(`${name}-lb-pool`, pool, args.adopt, afterRelease);
    const l2 = l2AnnouncementPolicy(`${name}-l2`, args.cilium.l2);
    ownCustomResource(`${name}-l2-policy`, l2, args.adopt, afterRelease);
    this.lbPools = pulumi.output(args.cilium.lbPool);
    this.registerOutputs({ release: this.release, lbPools: this.lbPools });
  }
}
