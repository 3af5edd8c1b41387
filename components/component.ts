/** What the stack's components share when they set themselves up. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { OwnNamespace } from "../model/namespaces";

/**
 * Refuses to go on without an explicit provider for each package: a default provider would follow whatever kube
 * context or Cloudflare credentials the environment happens to hold.
 */
export function requireProviders(component: pulumi.ComponentResource, type: string, packages: string[]): void {
  for (const pkg of packages) {
    if (!component.getProvider(`${pkg}::`)) {
      throw new pulumi.ResourceError(`${type} needs an explicit ${pkg} provider in opts.providers`, component);
    }
  }
}

/** A Namespace the stack creates, enforcing the Pod Security level its workloads run at, so nothing weaker lands. */
export function ownNamespace(
  resourceName: string,
  namespace: OwnNamespace,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
  const labels = namespace.podSecurity
    ? { labels: { "pod-security.kubernetes.io/enforce": namespace.podSecurity } }
    : {};
  return new k8s.core.v1.Namespace(resourceName, { metadata: { name: namespace.name, ...labels } }, opts);
}
