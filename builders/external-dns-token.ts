/** external-dns' own Cloudflare token: Zone Read and DNS Write on exactly one zone. */

/** The permission groups the token needs, by their Cloudflare names (UI: Zone:Read, DNS:Edit). */
export const TOKEN_PERMISSION_GROUPS = ["Zone Read", "DNS Write"] as const;
/** The scope of zone-level permission groups, used to look them up. */
export const ZONE_SCOPE = "com.cloudflare.api.account.zone";

/** One token policy, as the v6 provider takes it (`resources` is a JSON-encoded object). */
interface TokenPolicy {
  effect: "allow";
  permissionGroups: { id: string }[];
  resources: string;
}

/**
 * The ids of the named permission groups, in the order of `names`. Throws naming the first group the lookup did
 * not return, so a renamed group fails the deploy instead of minting a weaker token.
 */
export function permissionGroupIds(
  groups: ReadonlyArray<{ id: string; name: string }>,
  names: ReadonlyArray<string>,
): string[] {
  return names.map((name) => {
    const group = groups.find((g) => g.name === name);
    if (!group) throw new Error(`Cloudflare has no API token permission group named '${name}'`);
    return group.id;
  });
}

/** The one policy of external-dns' token: the given permission groups on exactly one zone. */
export function externalDnsTokenPolicy(zoneId: string, permissionGroupIds: string[]): TokenPolicy {
  return {
    effect: "allow",
    permissionGroups: permissionGroupIds.map((id) => ({ id })),
    resources: JSON.stringify({ [`${ZONE_SCOPE}.${zoneId}`]: "*" }),
  };
}
