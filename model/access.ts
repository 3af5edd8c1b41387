/**
 * Cloudflare Access as the rest of the stack checks it: the Access component's one resolved shape, which the tunnel
 * (cloudflared's origin check), the ingress gateway (its JWT policies) and the CLI read. The values come from
 * Cloudflare (the team domain, each application's `aud`), so they are Inputs: a preview shows them as computed.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The team's identity: derived from its domain, `<team>.cloudflareaccess.com`. */
export interface AccessTeam {
  /** `<team>`, as cloudflared's origin check names it. */
  teamName: string;
  /** The issuer of the team's tokens: `https://<team>.cloudflareaccess.com`. */
  issuer: string;
  /** Where its signing keys are: `<issuer>/cdn-cgi/access/certs`. */
  jwksUri: string;
}

/** Access in front of the protected routes. */
export type AccessGuard = { [K in keyof AccessTeam]: pulumi.Input<string> } & {
  /** Each protected hostname and its application's `aud` tag, the audience of the tokens Access issues for it. */
  hosts: { hostname: string; aud: pulumi.Input<string> }[];
};

/** The team of a team domain. */
export function accessTeam(teamDomain: string): AccessTeam {
  const issuer = `https://${teamDomain}`;
  return { teamName: teamDomain.split(".")[0]!, issuer, jwksUri: `${issuer}/cdn-cgi/access/certs` };
}

/** The lists of a named Access policy in config, as far as naming its Cloudflare policies goes. */
interface PolicyLists {
  emails: readonly string[];
  emailDomains: readonly string[];
  groups: readonly string[];
  serviceTokens: readonly string[];
}

/**
 * The Cloudflare policies a named config policy becomes, by part: people (emails, domains, groups) under the
 * policy's own name, service tokens under `<name> (service tokens)`, each only when its lists are not empty.
 */
export function accessPolicyNames(name: string, policy: PolicyLists): { people?: string; serviceTokens?: string } {
  const people = policy.emails.length + policy.emailDomains.length + policy.groups.length > 0;
  return {
    ...(people ? { people: name } : {}),
    ...(policy.serviceTokens.length > 0 ? { serviceTokens: `${name} (service tokens)` } : {}),
  };
}
