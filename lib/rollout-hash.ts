/**
 * A rollout trigger for pods that read a credential from a Secret: Kubernetes does not restart them when the
 * Secret changes, so a hash of the credential goes on the pod template, and a new credential rolls the pods.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * The pod annotation `homecluster.io/<credential>-sha256` holding the SHA-256 (hex) of a secret. Deliberately not
 * marked secret: a secret anywhere in a spec or in Helm values hides the whole of it from `pulumi preview` diffs,
 * and the hash of a high-entropy token reveals nothing of it.
 */
export function rolloutAnnotation(
  credential: string,
  secret: pulumi.Output<string>,
): Record<string, pulumi.Output<string>> {
  const hash = pulumi.unsecret(secret.apply((value) => createHash("sha256").update(value).digest("hex")));
  return { [`homecluster.io/${credential}-sha256`]: hash };
}
