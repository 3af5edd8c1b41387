/**
 * The Cloudflare side before anything else: the token in CLOUDFLARE_API_TOKEN is active and may do what the stack
 * does, the zone id is the configured domain's, and the account answers.
 */
import { TOKEN_FIX } from "../../clients/cloudflare";
import type { StackFacts, TokenNeed } from "../../stack/facts";
import { CheckError } from "../../clients/error";
import { fail, listing, ok, warn, type Check, type Result } from "../check";
import type { CheckContext } from "../context";

export const CLOUDFLARE_TOKEN = "cloudflare-token";
export const CLOUDFLARE_ZONE = "cloudflare-zone";
const COMPONENT = "Cloudflare";

/** The token as /tokens/verify describes it; account-owned tokens verify under their account. */
export interface TokenIdentity {
  id: string;
  status: string;
  expires_on?: string;
  owner: "user" | "account";
}

const verifyToken = (context: CheckContext): Promise<TokenIdentity> =>
  context.shared("token", async () => {
    const cf = await context.cloudflare();
    try {
      return { ...(await cf.request((sdk) => sdk.user.tokens.verify())), owner: "user" as const };
    } catch (error) {
      if (!(error instanceof CheckError) || error.status !== 401) throw error;
      const account_id = context.facts.cloudflare.accountId;
      // Not a user token: an account-owned one verifies only under its account. If not that either, the first error.
      const owned = await cf
        .request((sdk) => sdk.accounts.tokens.verify({ account_id }))
        .catch(() => {
          throw error;
        });
      return { ...owned, owner: "account" as const };
    }
  });

/** Days a token has left before it expires, below which the check warns. */
const EXPIRY_WARNING_DAYS = 14;

export function tokenResult(token: TokenIdentity, now: Date): Result {
  if (token.status !== "active") {
    return fail(
      `the token in CLOUDFLARE_API_TOKEN is ${token.status}`,
      `create a new token, store it and ${TOKEN_FIX}`,
    );
  }
  const owner = token.owner === "user" ? "user token" : "account-owned token";
  if (!token.expires_on) return ok(`active ${owner}, no expiry`);
  const days = Math.floor((Date.parse(token.expires_on) - now.getTime()) / 86_400_000);
  const text = `active ${owner}, expires ${token.expires_on.slice(0, 10)}`;
  return days < EXPIRY_WARNING_DAYS
    ? warn(`${text} (in ${days} days)`, "roll the token and pulumi config set --secret cloudflareApiToken <new token>")
    : ok(text);
}

export const tokenCheck: Check<CheckContext> = {
  id: CLOUDFLARE_TOKEN,
  component: COMPONENT,
  name: "API token",
  run: async (context) => tokenResult(await verifyToken(context), new Date()),
};

/** A zone as GET /zones/{id} returns it. */
export interface ZoneInfo {
  name: string;
  status?: string;
  account?: { id?: string };
}

export function zoneResult(zone: ZoneInfo, facts: Pick<StackFacts, "domain" | "cloudflare">): Result {
  const { zoneId, accountId } = facts.cloudflare;
  if (zone.name !== facts.domain) {
    return fail(
      `zone ${zoneId} is ${zone.name}, not ${facts.domain}`,
      `set homecluster:cloudflareZoneId to the id of ${facts.domain} (its Overview page in the dashboard)`,
    );
  }
  if (zone.account?.id && zone.account.id !== accountId) {
    return fail(
      `${zone.name} belongs to account ${zone.account.id}, not ${accountId}`,
      "set homecluster:cloudflareAccountId to the zone's account",
    );
  }
  return zone.status === "active"
    ? ok(`${zone.name} (${zoneId}), active`)
    : warn(
        `${zone.name} is ${zone.status ?? "not active"}: proxied records serve only once it is active`,
        "point the domain's nameservers at Cloudflare",
      );
}

/** A 403 or 404 from a read the stack needs: the id is wrong, or the token may not see it. */
function unreadable(error: unknown, what: string, fix: string): Result {
  if (error instanceof CheckError && (error.status === 403 || error.status === 404)) {
    return fail(
      `${what}: HTTP ${error.status}, ${error.status === 404 ? "no such id" : "the token may not read it"}`,
      fix,
    );
  }
  throw error;
}

export const zoneCheck: Check<CheckContext> = {
  id: CLOUDFLARE_ZONE,
  component: COMPONENT,
  name: "Zone",
  needs: [CLOUDFLARE_TOKEN],
  run: async (context) => {
    const { facts } = context;
    const cf = await context.cloudflare();
    try {
      return zoneResult(await cf.request((sdk) => sdk.zones.get({ zone_id: facts.cloudflare.zoneId })), facts);
    } catch (error) {
      return unreadable(
        error,
        `zone ${facts.cloudflare.zoneId}`,
        `check homecluster:cloudflareZoneId and that the token has Zone Read on ${facts.domain}`,
      );
    }
  },
};

export const accountCheck: Check<CheckContext> = {
  id: "cloudflare-account",
  component: COMPONENT,
  name: "Account",
  needs: [CLOUDFLARE_TOKEN],
  run: async (context) => {
    const { accountId } = context.facts.cloudflare;
    const cf = await context.cloudflare();
    try {
      const account = await cf.request((sdk) => sdk.accounts.get({ account_id: accountId }));
      return ok(`${account.name} (${accountId})`);
    } catch (error) {
      // Reading the account's details takes a permission the stack does not need; the tunnel checks use the account.
      if (error instanceof CheckError && error.status === 403) {
        return warn(
          `the token may not read account ${accountId}'s details`,
          "fine if the tunnel checks pass; otherwise check homecluster:cloudflareAccountId",
        );
      }
      return unreadable(error, `account ${accountId}`, "set homecluster:cloudflareAccountId to your account's id");
    }
  },
};

/** A token policy as the API returns it. */
export interface TokenPolicyInfo {
  effect: string;
  permission_groups: { name?: string }[];
  resources: Record<string, string | Record<string, string>>;
}

/** Whether a policy's resources reach the scope a permission group is needed on. */
function reaches(resources: TokenPolicyInfo["resources"], need: TokenNeed, ids: StackFacts["cloudflare"]): boolean {
  const keys = Object.entries(resources).flatMap(([key, value]) =>
    typeof value === "string" ? [key] : [key, ...Object.keys(value)],
  );
  const prefix = {
    account: "com.cloudflare.api.account.",
    zone: "com.cloudflare.api.account.zone.",
    user: "com.cloudflare.api.user.",
  }[need.scope];
  const id = { account: ids.accountId, zone: ids.zoneId, user: undefined }[need.scope];
  return keys.some((key) => key === `${prefix}*` || (id ? key === `${prefix}${id}` : key.startsWith(prefix)));
}

export function permissionsResult(policies: readonly TokenPolicyInfo[], cloudflare: StackFacts["cloudflare"]): Result {
  const grants = (need: TokenNeed, effect: string) =>
    policies.some(
      (p) =>
        p.effect === effect &&
        p.permission_groups.some((g) => g.name === need.group) &&
        reaches(p.resources, need, cloudflare),
    );
  const missing = cloudflare.tokenNeeds.filter((need) => !grants(need, "allow") || grants(need, "deny"));
  return missing.length > 0
    ? fail(
        `the token lacks ${listing(missing.map((n) => `${n.group} on the ${n.scope} (${n.purpose})`))}`,
        "add them to the token (dashboard: API Tokens, edit)",
      )
    : ok(`may ${listing(cloudflare.tokenNeeds.map((n) => n.group))}`);
}

export const permissionsCheck: Check<CheckContext> = {
  id: "cloudflare-permissions",
  component: COMPONENT,
  name: "Token permissions",
  needs: [CLOUDFLARE_TOKEN],
  run: async (context) => {
    const { cloudflare } = context.facts;
    const token = await verifyToken(context);
    const cf = await context.cloudflare();
    try {
      const details = await cf.request((sdk) =>
        token.owner === "user"
          ? sdk.user.tokens.get(token.id)
          : sdk.accounts.tokens.get(token.id, { account_id: cloudflare.accountId }),
      );
      return permissionsResult(details.policies ?? [], cloudflare);
    } catch (error) {
      if (error instanceof CheckError && error.status === 403) {
        return warn(
          "the token may not read its own permissions (API Tokens Read)",
          `make sure it has ${listing(cloudflare.tokenNeeds.map((n) => n.group))}`,
        );
      }
      throw error;
    }
  },
};

/**
 * external-dns' token is minted with the stack's token, through the user's API tokens: only a user-owned token that
 * holds API Tokens Write (the "Create additional tokens" template grants it) can do that.
 */
export function tokenOwnerResult(token: TokenIdentity): Result {
  return token.owner === "user"
    ? ok("a user's token: it may mint external-dns' token, given API Tokens Write")
    : fail(
        "the token is account-owned, and only a user's token can mint external-dns' token",
        'create external-dns\' token by hand (Zone Read and DNS Edit on the zone) and pulumi config set --secret externalDnsApiToken <token>, or deploy with a user token from the "Create additional tokens" template (README)',
      );
}

export const tokenOwnerCheck: Check<CheckContext> = {
  id: "cloudflare-token-owner",
  component: COMPONENT,
  name: "Token owner",
  needs: [CLOUDFLARE_TOKEN],
  run: async (context) => tokenOwnerResult(await verifyToken(context)),
};

/** The account's Zero Trust organisation as GET /accounts/{id}/access/organizations returns it. */
export interface OrganizationInfo {
  auth_domain?: string;
  name?: string;
}

const NO_ORGANIZATION_FIX =
  "create the team once: Cloudflare dashboard → Zero Trust, choose a team name (the free plan is enough), then pulumi up";

/** Access needs the account's Zero Trust organisation; a team domain in config must be its. */
export function organizationResult(organization: OrganizationInfo | undefined, teamDomain: string | undefined): Result {
  if (!organization?.auth_domain) {
    return fail(
      "the account has no Zero Trust organisation (team): Access cannot protect a route",
      NO_ORGANIZATION_FIX,
    );
  }
  if (teamDomain !== undefined && organization.auth_domain !== teamDomain) {
    return fail(
      `the account's team is ${organization.auth_domain}, not ${teamDomain} (homecluster:access.teamDomain)`,
      `set homecluster:access.teamDomain to ${organization.auth_domain}, or leave it unset to look it up`,
    );
  }
  return ok(`team ${organization.name ?? "?"} at ${organization.auth_domain}`);
}

export const organizationCheck: Check<CheckContext> = {
  id: "cloudflare-access-team",
  component: COMPONENT,
  name: "Zero Trust team",
  needs: [CLOUDFLARE_TOKEN],
  run: async (context) => {
    const { accountId, teamDomain } = context.facts.cloudflare;
    const cf = await context.cloudflare();
    try {
      return organizationResult(
        await cf.request((sdk) => sdk.zeroTrust.organizations.list({ account_id: accountId })),
        teamDomain,
      );
    } catch (error) {
      // Cloudflare answers an account without Access with an error whose message says it is not enabled.
      if (error instanceof CheckError && (error.status === 404 || /not_enabled|not enabled/i.test(error.message))) {
        return organizationResult(undefined, teamDomain);
      }
      // With the team domain in config the stack never reads the organisation, and its token need not either.
      if (error instanceof CheckError && error.status === 403 && teamDomain !== undefined) {
        return warn(
          `the token may not read the account's Zero Trust organisation; the stack uses ${teamDomain} from config`,
          "make sure the account's team is that one (dashboard → Zero Trust → Settings)",
        );
      }
      return unreadable(
        error,
        `the Zero Trust organisation of account ${accountId}`,
        "give the token Access: Organizations, Identity Providers, and Groups Read, or set homecluster:access.teamDomain",
      );
    }
  },
};
