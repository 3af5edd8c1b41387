/** The PodDisruptionBudget the stack's always-on workloads share (cloudflared, the ingress gateway). */
import type * as k8s from "@pulumi/kubernetes";

/**
 * Keeps one of the selected pods up through node drains. With a single replica it would block every drain, so the
 * gateway gets one only for two or more.
 */
export function keepOneUpSpec(matchLabels: Record<string, string>): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  return { minAvailable: 1, selector: { matchLabels } };
}
