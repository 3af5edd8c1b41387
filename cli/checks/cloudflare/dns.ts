/**
 * The DNS records on the routed hostnames. Before `pulumi up`, any record there that is not the stack's (told by the
 * owner comment on its records) collides with the CNAME the stack creates; after it, each hostname has exactly the
 * proxied CNAME to the tunnel.
 */
import type { StackFacts } from "../../stack/facts";
import { collect } from "../../clients/cloudflare";
import { count, fail, listing, ok, warn, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { CLOUDFLARE_TOKEN, CLOUDFLARE_ZONE } from "./account";

/** A DNS record as the API returns it. */
export interface DnsRecordInfo {
  id?: string;
  name?: string;
  type?: string;
  content?: string;
  proxied?: boolean;
  comment?: string | null;
}

/** Each routed hostname and the records at exactly that name. */
export type RoutedRecords = ReadonlyMap<string, readonly DnsRecordInfo[]>;

export const routedRecords = (context: CheckContext): Promise<RoutedRecords> =>
  context.shared("dns", async () => {
    const cf = await context.cloudflare();
    const { zoneId } = context.facts.cloudflare;
    const hostnames = context.facts.tunnel.hostnames;
    const records = await Promise.all(
      hostnames.map((hostname) =>
        cf.request((sdk) => collect(sdk.dns.records.list({ zone_id: zoneId, name: { exact: hostname } }))),
      ),
    );
    return new Map(hostnames.map((hostname, i) => [hostname, records[i] ?? []]));
  });

const describeRecord = (record: DnsRecordInfo) => `${record.name} ${record.type} ${record.content}`;

export function collisionsResult(
  records: RoutedRecords,
  tunnel: StackFacts["tunnel"],
  adopted: StackFacts["cloudflare"]["adopted"]["dnsRecords"] = {},
): Result {
  const all = [...records.values()].flat();
  // A record homecluster:adopt takes over is the stack's from the adopting up on.
  const taken = new Set(Object.values(adopted).map((id) => id.split("/")[1]));
  const foreign = all.filter((record) => record.comment !== tunnel.recordComment && !taken.has(record.id ?? ""));
  const own = all.length - foreign.length;
  if (foreign.length > 0) {
    return fail(
      `records this stack does not own: ${foreign.map(describeRecord).join(", ")}`,
      "delete them, or drop those routes: the stack puts a CNAME there, and a name with a CNAME holds no other record",
    );
  }
  return ok(
    `no foreign record on ${count(records.size, "routed hostname")}${own > 0 ? ` (${count(own, "record")} already this stack's)` : ""}`,
  );
}

export const collisionsCheck: Check<CheckContext> = {
  id: "cloudflare-dns-collisions",
  component: "Cloudflare",
  name: "DNS records",
  // The records are read in the zone: a wrong zone is one failure (the zone's), not three.
  needs: [CLOUDFLARE_TOKEN, CLOUDFLARE_ZONE],
  run: async (context) =>
    collisionsResult(await routedRecords(context), context.facts.tunnel, context.facts.cloudflare.adopted.dnsRecords),
};

export function cnamesResult(records: RoutedRecords, tunnelId: string, tunnel: StackFacts["tunnel"]): Result {
  const target = tunnel.cnameTarget(tunnelId);
  const broken: string[] = [];
  const unowned: string[] = [];
  for (const [hostname, found] of records) {
    const cname = found.find((r) => r.type === "CNAME");
    if (!cname) broken.push(`${hostname} has ${found.length === 0 ? "no record" : found.map((r) => r.type).join("+")}`);
    else if (cname.content !== target) broken.push(`${hostname} points to ${cname.content}`);
    else if (!cname.proxied) broken.push(`${hostname} is not proxied`);
    else if (cname.comment !== tunnel.recordComment) unowned.push(hostname);
  }
  if (broken.length > 0)
    return fail(`${broken.join("; ")} (want a proxied CNAME to ${target})`, "pulumi up restores them");
  return unowned.length > 0
    ? warn(
        `${listing(unowned)} lack${unowned.length === 1 ? "s" : ""} this stack's owner comment`,
        "pulumi up restores it; someone edited the records",
      )
    : ok(`${count(records.size, "hostname")}: proxied CNAME to ${target}`);
}
