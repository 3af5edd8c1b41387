/**
 * Workloads the stack runs: a Deployment has its replicas ready; a node agent (DaemonSet) has a ready pod on every
 * node. Pods that are not ready are named with what keeps them (CrashLoopBackOff, ImagePullBackOff, ...).
 */
import type { WorkloadRef } from "../../stack/facts";
import { count, fail, ok, warn, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import type { KubeClient } from "../../clients/kube";
import { KUBE_API } from "./cluster";
import { isReady, labelSelector, listNodes, type NodeObject, type PodObject, type WorkloadObject } from "./objects";

function describeRef(ref: WorkloadRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** Why a pod is not ready, in the words `kubectl get pods` uses. */
function podProblem(pod: PodObject): string {
  const container = pod.status?.containerStatuses?.find((c) => !c.ready);
  return container?.state?.waiting?.reason ?? container?.state?.terminated?.reason ?? pod.status?.phase ?? "not ready";
}

const inspect = (ref: WorkloadRef) => `kubectl -n ${ref.namespace} describe ${ref.kind.toLowerCase()} ${ref.name}`;

/** The kubectl command that prints a workload's log. */
export const logsCommand = (ref: WorkloadRef) =>
  `kubectl -n ${ref.namespace} logs ${ref.kind === "Deployment" ? "deploy" : "ds"}/${ref.name}`;

const notFound = (ref: WorkloadRef) =>
  fail(`${describeRef(ref)} not found`, "pulumi up (if it ran, its Helm release or Deployment failed: see its output)");

export function deploymentResult(
  ref: WorkloadRef,
  deployment: WorkloadObject | undefined,
  pods: readonly PodObject[],
): Result {
  if (!deployment) return notFound(ref);
  const wanted = deployment.spec?.replicas ?? 1;
  const ready = deployment.status?.readyReplicas ?? 0;
  const problems = pods
    .filter((pod) => !isReady(pod.status?.conditions))
    .map((pod) => `${pod.metadata?.name} ${podProblem(pod)}`);
  const text = `${ready}/${wanted} ready${problems.length > 0 ? `; ${problems.join(", ")}` : ""}`;
  if (ready >= wanted && wanted > 0) return ok(text);
  return ready === 0 ? fail(text, inspect(ref)) : warn(text, inspect(ref));
}

export function daemonSetResult(
  ref: WorkloadRef,
  daemonSet: WorkloadObject | undefined,
  pods: readonly PodObject[],
  nodes: readonly NodeObject[],
): Result {
  if (!daemonSet) return notFound(ref);
  const problems = nodes.flatMap((node) => {
    const name = node.metadata?.name ?? "";
    const onNode = pods.filter((pod) => pod.spec?.nodeName === name);
    if (onNode.length === 0) return [`missing on ${name}`];
    return onNode.some((pod) => isReady(pod.status?.conditions))
      ? []
      : [`not ready on ${name} (${onNode.map(podProblem).join(", ")})`];
  });
  return problems.length > 0
    ? fail(problems.join("; "), inspect(ref))
    : ok(`ready on ${nodes.length === 1 ? "the only node" : `all ${count(nodes.length, "node")}`}`);
}

/** The workload, or undefined when it does not exist. */
async function readWorkload(kube: KubeClient, ref: WorkloadRef): Promise<WorkloadObject | undefined> {
  const { name, namespace } = ref;
  return ref.kind === "Deployment"
    ? kube.find((api) => api.apps.readNamespacedDeployment({ name, namespace }))
    : kube.find((api) => api.apps.readNamespacedDaemonSet({ name, namespace }));
}

/** The workload and its pods (by the workload's own selector). */
export async function readWorkloadPods(
  context: CheckContext,
  ref: WorkloadRef,
): Promise<{ workload: WorkloadObject | undefined; pods: PodObject[] }> {
  const kube = await context.kube();
  const workload = await readWorkload(kube, ref);
  const labels = workload?.spec?.selector.matchLabels;
  if (!labels) return { workload, pods: [] };
  const pods = await kube.request((api) =>
    api.core.listNamespacedPod({ namespace: ref.namespace, labelSelector: labelSelector(labels) }),
  );
  return { workload, pods: pods.items };
}

export function workloadCheck(options: {
  id: string;
  component: string;
  name: string;
  ref: WorkloadRef;
}): Check<CheckContext> {
  const { ref } = options;
  return {
    id: options.id,
    component: options.component,
    name: options.name,
    needs: [KUBE_API],
    run: async (context) => {
      const { workload, pods } = await readWorkloadPods(context, ref);
      return ref.kind === "Deployment"
        ? deploymentResult(ref, workload, pods)
        : daemonSetResult(ref, workload, pods, await listNodes(context));
    },
  };
}
