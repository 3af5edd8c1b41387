/**
 * homecluster:cloudflare:Access — Cloudflare Access (Zero Trust) in front of the routes that name a policy.
 *
 * Creates, on the Cloudflare side only (it waits for nothing in the cluster, like the tunnel):
 * - one reusable `ZeroTrustAccessPolicy` per named policy in config (two when it lists both people and service
 *   tokens: service tokens need a Service Auth policy of their own);
 * - one self-hosted `ZeroTrustAccessApplication` per protected hostname, holding its policies, protected from
 *   deletion like the tunnel (deleting it would publish the app).
 * The team domain comes from config, else from the account's Zero Trust organisation (looked up only when a route
 * is protected). Its outputs are what cloudflared and the ingress gateway check the token against.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { accessApplicationArgs, accessPolicyParts } from "../builders/access-objects";
import type { AccessSettings } from "../config/schema";
import type { HomeclusterOutputs } from "../contract";
import { requireProviders } from "./component";
import { accessTeam, type AccessGuard } from "../model/access";
import type { Adoption } from "../model/adoption";
import { protectedRoutes, type Route } from "../model/routes";

export interface AccessArgs {
  /** `homecluster:access`: the named policies, the session duration, the team domain. */
  access: AccessSettings;
  /** The Cloudflare account of the Zero Trust organisation. */
  accountId: string;
  /** The normalised routes: each one that names a policy gets an application. */
  routes: readonly Route[];
  /** Protect the applications from deletion (`tunnel.protect`). */
  protect: boolean;
  /** What config takes over instead of creating: applications by hostname, policies by name. */
  adopt: Pick<Adoption, "accessApplications" | "accessPolicies">;
}

export class Access extends pulumi.ComponentResource {
  /** What cloudflared and the gateway check Access's token against; undefined when no route is protected. */
  public readonly guard: AccessGuard | undefined;
  /** The team domain and each protected hostname's application: the `access` output. */
  public readonly access: pulumi.Output<HomeclusterOutputs["access"]>;

  constructor(name: string, args: AccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homecluster:cloudflare:Access", name, {}, opts);
    requireProviders(this, "Access", ["cloudflare"]);
    const policyIds = new Map<string, pulumi.Output<string>[]>();
    for (const [policyName, policy] of Object.entries(args.access.policies)) {
      const ids = accessPolicyParts(policyName, policy, args.accountId).map((part) => {
        const existing = args.adopt.accessPolicies[String(part.args.name)];
        const opts = { parent: this, ...(existing ? { import: existing } : {}) };
        return new cloudflare.ZeroTrustAccessPolicy(`${name}-${part.key}`, part.args, opts).id;
      });
      policyIds.set(policyName, ids);
    }

    const routes = protectedRoutes(args.routes);
    const applications = routes.map((route) => {
      // config/routes.ts refused a route naming a policy that does not exist.
      const ids = route.access.flatMap((policyName) => policyIds.get(policyName)!);
      const existing = args.adopt.accessApplications[route.hostname];
      const application = new cloudflare.ZeroTrustAccessApplication(
        `${name}-app-${route.name}`,
        accessApplicationArgs(route, args.accountId, args.access.sessionDuration, ids),
        { parent: this, protect: args.protect, ...(existing ? { import: existing } : {}) },
      );
      return { hostname: route.hostname, policies: route.access, aud: application.aud };
    });

    const teamDomain =
      routes.length === 0
        ? undefined
        : args.access.teamDomain !== undefined
          ? pulumi.output(args.access.teamDomain)
          : cloudflare.getZeroTrustOrganizationOutput({ accountId: args.accountId }, { parent: this }).authDomain;
    const team = teamDomain?.apply(accessTeam);
    this.guard = team && {
      teamName: team.teamName,
      issuer: team.issuer,
      jwksUri: team.jwksUri,
      hosts: applications.map(({ hostname, aud }) => ({ hostname, aud })),
    };
    this.access = pulumi
      .all([teamDomain ?? null, pulumi.all(applications.map((a) => a.aud))])
      .apply(([domain, auds]) => ({
        teamDomain: domain,
        applications: Object.fromEntries(
          applications.map((a, i) => [a.hostname, { aud: auds[i]!, policies: a.policies }]),
        ),
      }));
    this.registerOutputs({ guard: this.guard, access: this.access });
  }
}
