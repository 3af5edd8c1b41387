/**
 * ServiceEntries: external services config lists, added to the mesh's registry. Pure builder;
 * components/mesh-policies.ts registers what it returns.
 */
import type { ExternalService } from "../config/schema";
import { NETWORKING_API, type ServiceEntry } from "../crds/istio-io";
import { serviceEntryKey } from "../model/mesh";
import type { MeshPolicy } from "./mesh-policy";

/** One external service, outside the mesh (MESH_EXTERNAL: no mTLS, no sidecar or ztunnel at the far end). */
export function serviceEntry(service: ExternalService): MeshPolicy<ServiceEntry> {
  return {
    key: serviceEntryKey(service),
    object: {
      apiVersion: NETWORKING_API,
      kind: "ServiceEntry",
      metadata: { name: service.name, namespace: service.namespace },
      spec: {
        hosts: service.hosts,
        location: "MESH_EXTERNAL",
        ports: service.ports.map((p) => ({ number: p.number, name: p.name, protocol: p.protocol })),
        resolution: service.resolution,
      },
    },
  };
}
