/**
 * The Istio ingress gateway as everything else sees it: its Service, pod labels and identity. All of it follows
 * from its namespace and the gateway chart's release name (the chart names its Deployment, Service and service
 * account after the release).
 */
import { charts } from "../versions";
import type { WorkloadIdentity } from "./identity";

/** The gateway's plain-HTTP port, on the Service and on the pod (TLS ends at Cloudflare). */
const GATEWAY_HTTP_PORT = 80;

export interface IngressGateway extends WorkloadIdentity {
  /** Service name; `http://<service>.<namespace>.svc.cluster.local:<port>` reaches the gateway. */
  service: string;
  /** Plain-HTTP port, the same on the Service and the pod. */
  port: number;
  /** Pod labels that select the gateway (set explicitly: a Deployment's selector cannot change later). */
  selector: Record<string, string>;
}

/** The gateway of the chart's release `release` (an adopted release keeps its own name) in `namespace`. */
export function ingressGateway(namespace: string, release: string = charts.istioGateway.releaseName): IngressGateway {
  return {
    namespace,
    service: release,
    port: GATEWAY_HTTP_PORT,
    selector: { app: release, istio: "ingressgateway" },
    serviceAccount: release,
  };
}

/** The gateway's in-cluster URL, where the tunnel sends gateway routes. */
export function gatewayUrl(gateway: IngressGateway): string {
  return `http://${gateway.service}.${gateway.namespace}.svc.cluster.local:${gateway.port}`;
}
