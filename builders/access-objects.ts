/**
 * Cloudflare Access (Zero Trust) objects: one reusable policy per named config policy, and one self-hosted
 * application per protected hostname, holding those policies. Each application's `aud` tag is the audience of the
 * JWT Access puts in the `Cf-Access-Jwt-Assertion` header, which cloudflared and the gateway check again.
 */
import type * as cloudflare from "@pulumi/cloudflare";
import type * as pulumi from "@pulumi/pulumi";
import type { AccessPolicySettings } from "../config/schema";
import { accessPolicyNames } from "../model/access";
import type { Route } from "../model/routes";

/** One Cloudflare Access policy to create for a named config policy: its key in resource names and its args. */
interface AccessPolicyPart {
  /**
   * `policy-<name>` for people, `service-policy-<name>` for service tokens: distinct prefixes, so no two config
   * policies' parts share a key (`ops`'s tokens and a policy named `ops-service` do not collide).
   */
  key: string;
  args: cloudflare.ZeroTrustAccessPolicyArgs;
}

/**
 * The Cloudflare policies of one named config policy. People (emails, domains, groups) get an `allow` policy, which
 * logs them in; service tokens need a `non_identity` (Service Auth) policy of their own, because an allow policy
 * would send a non-interactive client to the login page.
 */
export function accessPolicyParts(name: string, policy: AccessPolicySettings, accountId: string): AccessPolicyPart[] {
  const people: cloudflare.types.input.ZeroTrustAccessPolicyInclude[] = [
    ...policy.emails.map((email) => ({ email: { email } })),
    ...policy.emailDomains.map((domain) => ({ emailDomain: { domain } })),
    ...policy.groups.map((id) => ({ group: { id } })),
  ];
  const tokens = policy.serviceTokens.map((tokenId) => ({ serviceToken: { tokenId } }));
  const names = accessPolicyNames(name, policy);
  return [
    ...(names.people !== undefined
      ? [{ key: `policy-${name}`, args: { accountId, name: names.people, decision: "allow", includes: people } }]
      : []),
    ...(names.serviceTokens !== undefined
      ? [
          {
            key: `service-policy-${name}`,
            args: { accountId, name: names.serviceTokens, decision: "non_identity", includes: tokens },
          },
        ]
      : []),
  ];
}

/** The self-hosted application that puts Access in front of one route, with its policies in order. */
export function accessApplicationArgs(
  route: Route,
  accountId: string,
  sessionDuration: string,
  policyIds: pulumi.Input<string>[],
): cloudflare.ZeroTrustAccessApplicationArgs {
  return {
    accountId,
    name: route.hostname,
    type: "self_hosted",
    // `domain` is what the App Launcher shows; `destinations` is what Access protects.
    domain: route.hostname,
    destinations: [{ type: "public", uri: route.hostname }],
    sessionDuration,
    policies: policyIds.map((id, index) => ({ id, precedence: index + 1 })),
  };
}
