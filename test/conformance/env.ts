/**
 * What the tier takes from its environment: the helm binary, where charts come from, and the API server (if any)
 * to admit through. Relative paths are the caller's working directory's, as a shell resolves them.
 */
import os from "node:os";
import path from "node:path";
import { supportedKubernetes } from "../../versions";

const optionalPath = (name: string): string | undefined => {
  const value = process.env[name];
  return value ? path.resolve(value) : undefined;
};

/** The tools cache the scripts share: outside the clone, so a fresh clone reuses what was built or pulled. */
const TOOLS_CACHE =
  process.env["HOMECLUSTER_TOOLS"] ??
  path.join(process.env["XDG_CACHE_HOME"] ?? path.join(os.homedir(), ".cache"), "homecluster");

/**
 * The newest Kubernetes minor every pin supports (the lowest `newest` in versions.ts): the cluster a render must
 * hold on, since what a chart renders can depend on the API versions it is told exist.
 */
export const KUBE_VERSION = Object.values(supportedKubernetes)
  .map((s) => s.newest)
  .reduce((lowest, v) => (compareMinor(v, lowest) < 0 ? v : lowest));

function compareMinor(a: string, b: string): number {
  const [am = 0, an = 0] = a.split(".").map(Number);
  const [bm = 0, bn = 0] = b.split(".").map(Number);
  return am - bm || an - bn;
}

export const settings = {
  helm: process.env["HELM"] || "helm",
  chartDir: optionalPath("HOMECLUSTER_CHART_DIR"),
  cacheDir: path.join(TOOLS_CACHE, "charts"),
  kubeVersion: KUBE_VERSION,
  /** An API server to admit through; admission is not run without one. */
  kubeconfig: optionalPath("HOMECLUSTER_CONFORMANCE_KUBECONFIG"),
  /** CRDs cilium-operator registers at run time, which the stack's own Cilium objects need. */
  crdDir: optionalPath("HOMECLUSTER_CONFORMANCE_CRDS"),
};
