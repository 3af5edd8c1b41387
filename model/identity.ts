/** Workload identities in the mesh, as AuthorizationPolicy rules name them. */

/** Istio's default trust domain (meshConfig.trustDomain); this stack does not change it. */
const TRUST_DOMAIN = "cluster.local";

/** A workload's identity: its namespace and service account. */
export interface WorkloadIdentity {
  namespace: string;
  serviceAccount: string;
}

/** The SPIFFE principal of a workload, as AuthorizationPolicy `source.principals` spells it. */
export function principal(identity: WorkloadIdentity): string {
  return `${TRUST_DOMAIN}/ns/${identity.namespace}/sa/${identity.serviceAccount}`;
}
