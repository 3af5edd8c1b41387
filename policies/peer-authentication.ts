/**
 * Peer authentication: mesh-wide STRICT mTLS, and the exceptions config declares for clients outside the mesh.
 * Pure builders; components/mesh-policies.ts registers what they return.
 */
import type { MtlsException } from "../config/schema";
import { SECURITY_API, type PeerAuthentication } from "../crds/istio-io";
import { mtlsExceptionNames } from "../model/mesh";
import type { MeshPolicy } from "./mesh-policy";

/**
 * The mesh-wide policy: named `default` in the root namespace, mTLS STRICT. In ambient, ztunnel then refuses
 * plaintext into every enrolled pod.
 */
export function meshStrictMtls(rootNamespace: string): MeshPolicy<PeerAuthentication> {
  return {
    // Istio reads a mesh-wide policy by this name; the resource says what it is.
    key: "mtls-strict",
    object: {
      apiVersion: SECURITY_API,
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: rootNamespace },
      spec: { mtls: { mode: "STRICT" } },
    },
  };
}

/**
 * One exception, PERMISSIVE: the whole namespace, the selected workloads, or only the listed ports of the selected
 * workloads (their mode otherwise stays the mesh's STRICT). Istio rejects port-level mTLS without a selector, and
 * config enforces that, so a namespace-wide exception always covers every port.
 */
export function mtlsException(exception: MtlsException): MeshPolicy<PeerAuthentication> {
  const selector = exception.selector ? { selector: { matchLabels: exception.selector } } : {};
  const { name, key } = mtlsExceptionNames(exception).peerAuthentication;
  return {
    key,
    object: {
      apiVersion: SECURITY_API,
      kind: "PeerAuthentication",
      metadata: { name, namespace: exception.namespace },
      spec:
        exception.ports.length > 0
          ? {
              ...selector,
              portLevelMtls: Object.fromEntries(
                exception.ports.map((p) => [String(p), { mode: "PERMISSIVE" as const }]),
              ),
            }
          : { ...selector, mtls: { mode: "PERMISSIVE" } },
    },
  };
}
