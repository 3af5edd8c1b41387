/**
 * homecluster: the networking stack of a home Kubernetes cluster. Thin by design: load the config, create
 * the providers, instantiate the components, export the output contract. See README.md and components/.
 */
import * as k8s from "@pulumi/kubernetes";
import { loadConfig } from "./config";
import { Cilium } from "./components/cilium";

const config = loadConfig();

const k8sProvider = new k8s.Provider("k8s", {
  context: config.kubeContext,
  ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
  enableServerSideApply: true,
});

const cilium = new Cilium(
  "cilium",
  {
    distribution: config.distribution,
    version: config.versions.cilium,
    k8sServiceHost: config.cilium.k8sServiceHost,
    k8sServicePort: config.cilium.k8sServicePort,
    ipamMode: config.cilium.ipamMode,
    podCidrs: config.network.podCidrs,
    clusterName: config.cilium.clusterName,
    clusterId: config.cilium.clusterId,
    operatorReplicas: config.cilium.operatorReplicas,
    hubbleUi: config.cilium.hubbleUi,
    k8sClientRateLimit: config.cilium.k8sClientRateLimit,
    values: config.cilium.values,
    lbPool: config.cilium.lbPool,
    l2: config.cilium.l2,
  },
  { providers: [k8sProvider] },
);

export const lbPools = cilium.lbPoolBlocks;
