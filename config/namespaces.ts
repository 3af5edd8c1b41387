/**
 * The namespaces the stack creates, from config: the components create them from this, and the config checks read it
 * (a mesh namespace of config may not be one of them), so no list of them is kept anywhere else.
 */
import type { OwnNamespaces } from "../model/namespaces";
import { charts } from "../versions";
import type { ParsedConfig } from "./schema";

export function ownNamespaces(config: Pick<ParsedConfig, "istio" | "tunnel" | "externalDns">): OwnNamespaces {
  return {
    // Talos enforces baseline everywhere but kube-system, and istio-cni and ztunnel need host access.
    istioSystem: { name: charts.istiod.namespace, podSecurity: "privileged" },
    gateway: { name: config.istio.gateway.namespace },
    cloudflared: { name: config.tunnel.cloudflared.namespace, podSecurity: "restricted" },
    externalDns: { name: config.externalDns.namespace, podSecurity: "restricted" },
  };
}
