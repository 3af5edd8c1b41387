/**
 * The engine tier's baseline program (npm run bench): one Namespace through an explicit provider, so that a figure
 * of the stack's preview is read against the engine's own cost of a run, measured in the same run.
 */
import * as k8s from "@pulumi/kubernetes";

const provider = new k8s.Provider("k8s", { context: "simulated" });
new k8s.core.v1.Namespace("baseline", { metadata: { name: "bench-baseline" } }, { provider });
