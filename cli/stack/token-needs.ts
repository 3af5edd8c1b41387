/**
 * The permission groups the stack's Cloudflare token needs, read off the resource graph: each Cloudflare resource
 * type the program creates, and each lookup it makes, needs its group. A resource added to a component adds its need.
 */
import type { MockRun } from "../../offline/mock-runtime";
import type { TokenNeed } from "./facts";

/** What each resource type (`cloudflare:index/<name>:<Type>`) or invoke the program uses needs, in the order shown. */
const NEEDS: { uses: string; need: TokenNeed }[] = [
  {
    uses: "ZeroTrustTunnelCloudflared",
    need: { group: "Cloudflare Tunnel Write", scope: "account", purpose: "the tunnel and its configuration" },
  },
  { uses: "DnsRecord", need: { group: "DNS Write", scope: "zone", purpose: "the routes' CNAMEs" } },
  { uses: "DnsRecord", need: { group: "Zone Read", scope: "zone", purpose: "the zone" } },
  {
    uses: "ApiToken",
    need: { group: "API Tokens Write", scope: "user", purpose: "minting external-dns' zone-scoped token" },
  },
  {
    uses: "ZeroTrustAccessApplication",
    need: { group: "Access: Apps and Policies Write", scope: "account", purpose: "the Access applications" },
  },
  {
    uses: "getZeroTrustOrganization",
    need: {
      group: "Access: Organizations, Identity Providers, and Groups Read",
      scope: "account",
      purpose: "looking up the team domain",
    },
  },
];

export function tokenNeeds(run: MockRun): TokenNeed[] {
  const used = new Set([
    ...run.resources.filter((r) => r.type.startsWith("cloudflare:")).map((r) => r.type.split(":").pop()),
    ...run.calls.filter((c) => c.token.startsWith("cloudflare:")).map((c) => c.token.split(":").pop()),
  ]);
  return NEEDS.filter(({ uses }) => used.has(uses)).map(({ need }) => need);
}
