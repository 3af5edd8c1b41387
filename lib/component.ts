/** What the stack's components share when they set themselves up. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

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
export function enforcedNamespace(
  resourceName: string,
  name: pulumi.Input<string>,
  level: "restricted" | "privileged",
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
  return new k8s.core.v1.Namespace(
    resourceName,
    { metadata: { name, labels: { "pod-security.kubernetes.io/enforce": level } } },
    opts,
  );
}
