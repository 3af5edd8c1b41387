/**
 * ServiceEntries: external services config lists, added to the mesh's registry. Pure builder;
 * components/mesh-policies.ts registers what it returns.
 */
import { NETWORKING_API, type ServiceEntry, type ServiceEntryProtocol } from "../crds/istio";

export interface ExternalService {
  name: string;
  namespace: string;
  hosts: string[];
  ports: { number: number; protocol: ServiceEntryProtocol; name: string }[];
  resolution: "DNS" | "STATIC" | "NONE";
}

/** One external service, outside the mesh (MESH_EXTERNAL: no mTLS, no sidecar or ztunnel at the far end). */
export function serviceEntry(service: ExternalService): ServiceEntry {
  return {
    apiVersion: NETWORKING_API,
    kind: "ServiceEntry",
    metadata: { name: service.name, namespace: service.namespace },
    spec: {
      hosts: service.hosts,
      location: "MESH_EXTERNAL",
      ports: service.ports.map((p) => ({ number: p.number, name: p.name, protocol: p.protocol })),
      resolution: service.resolution,
    },
  };
}
