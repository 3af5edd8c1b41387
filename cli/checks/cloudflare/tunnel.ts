/**
 * The tunnel in the Cloudflare account: before `pulumi up`, whether its name is free; after it, what
 * `cloudflared tunnel list` shows (status, connections per colo), whether the remote configuration is still the
 * stack's, and the routed hostnames' CNAMEs.
 */
import type { CloudflareSdk } from "../../clients/cloudflare";
import type { RemoteTunnelConfig, StackFacts } from "../../stack/facts";
import { collect } from "../../clients/cloudflare";
import { count, fail, ok, warn, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { logsCommand } from "../kubernetes/workloads";
import { CLOUDFLARE_TOKEN, CLOUDFLARE_ZONE } from "./account";
import { cnamesResult, routedRecords, type RoutedRecords } from "./dns";

const COMPONENT = "Tunnel";

/** A tunnel as the API lists it. */
export interface TunnelInfo {
  id?: string;
  name?: string;
  status?: string;
  created_at?: string;
}

/** A cloudflared instance (connector) and its connections to Cloudflare's edge. */
export interface ConnectorInfo {
  version?: string;
  conns?: { colo_name?: string; is_pending_reconnect?: boolean }[];
}

/** The tunnels named as the stack's, not deleted. */
const namedTunnels = (context: CheckContext): Promise<TunnelInfo[]> =>
  context.shared("tunnels", async () => {
    const cf = await context.cloudflare();
    const { accountId } = context.facts.cloudflare;
    const { name } = context.facts.tunnel;
    const tunnels = await cf.request((sdk) =>
      collect(sdk.zeroTrust.tunnels.cloudflared.list({ account_id: accountId, name, is_deleted: false })),
    );
    return tunnels.filter((t) => t.name === name);
  });

export function existingTunnelResult(
  tunnels: readonly TunnelInfo[],
  records: RoutedRecords,
  facts: Pick<StackFacts, "tunnel" | "cloudflare">,
): Result {
  const { name } = facts.tunnel;
  const tunnel = tunnels[0];
  if (!tunnel?.id) return ok(`no tunnel named '${name}' yet`);
  if (facts.cloudflare.adopted.tunnel === `${facts.cloudflare.accountId}/${tunnel.id}`) {
    return ok(`'${name}' (${tunnel.id}) exists, and homecluster:adopt.tunnel takes it over`);
  }
  const target = facts.tunnel.cnameTarget(tunnel.id);
  const ours = [...records.values()]
    .flat()
    .some((r) => r.comment === facts.tunnel.recordComment && r.content === target);
  if (ours) return ok(`'${name}' (${tunnel.id}) exists, and this stack's records point to it`);
  return fail(
    `a tunnel named '${name}' exists (${tunnel.id}, created ${tunnel.created_at?.slice(0, 10) ?? "?"}): creating it would fail`,
    `set homecluster:tunnel.name to another name, or delete it (cloudflared tunnel delete ${name}) once nothing uses it`,
  );
}

export const tunnelNameCheck: Check<CheckContext> = {
  id: "cloudflare-tunnel-name",
  component: "Cloudflare",
  name: "Tunnel name",
  // It reads the zone's records too: a wrong zone is the zone check's failure, not this one's.
  needs: [CLOUDFLARE_TOKEN, CLOUDFLARE_ZONE],
  run: async (context) =>
    existingTunnelResult(await namedTunnels(context), await routedRecords(context), context.facts),
};

export function tunnelResult(tunnels: readonly TunnelInfo[], name: string): Result {
  const [tunnel, ...others] = tunnels;
  if (!tunnel) return fail(`no tunnel named '${name}' in the account`, "pulumi up");
  if (others.length > 0) {
    return fail(
      `${count(tunnels.length, "tunnel")} are named '${name}': ${tunnels.map((t) => t.id).join(", ")}`,
      "delete the one the stack does not manage (pulumi stack export shows its id)",
    );
  }
  return ok(`'${name}' (${tunnel.id}), created ${tunnel.created_at?.slice(0, 10) ?? "?"}`);
}

const TUNNEL = "tunnel";

export const tunnelCheck: Check<CheckContext> = {
  id: TUNNEL,
  component: COMPONENT,
  name: "Tunnel",
  needs: [CLOUDFLARE_TOKEN],
  run: async (context) => tunnelResult(await namedTunnels(context), context.facts.tunnel.name),
};

/** The tunnel the stack manages (once `tunnelCheck` passed), and what `read` fetches about it. */
async function readTunnel<T>(
  context: CheckContext,
  read: (sdk: CloudflareSdk, tunnelId: string, params: { account_id: string }) => Promise<T>,
): Promise<{ tunnel: TunnelInfo; value: T }> {
  const [tunnel = {}] = await namedTunnels(context);
  const cf = await context.cloudflare();
  const value = await cf.request((sdk) =>
    read(sdk, tunnel.id ?? "", { account_id: context.facts.cloudflare.accountId }),
  );
  return { tunnel, value };
}

/** Connections per colo, as `cloudflared tunnel list` prints them: `2xams01, 2xfra06`. */
export function coloSummary(connectors: readonly ConnectorInfo[]): string {
  const colos = new Map<string, number>();
  for (const conn of connectors.flatMap((c) => c.conns ?? [])) {
    if (conn.is_pending_reconnect) continue;
    const colo = conn.colo_name ?? "?";
    colos.set(colo, (colos.get(colo) ?? 0) + 1);
  }
  return [...colos]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([colo, n]) => `${n}x${colo}`)
    .join(", ");
}

export function connectionsResult(
  tunnel: TunnelInfo,
  connectors: readonly ConnectorInfo[],
  tunnelFacts: StackFacts["tunnel"],
): Result {
  const colos = coloSummary(connectors);
  const fix = `read cloudflared's log (${logsCommand(tunnelFacts.cloudflared)}); it needs outbound port 7844 to Cloudflare`;
  if (!colos) return fail(`status ${tunnel.status ?? "unknown"}, no active connections`, fix);
  const text = `status ${tunnel.status}, ${count(connectors.length, "connector")}, connections ${colos}`;
  return tunnel.status === "healthy" ? ok(text) : warn(text, fix);
}

export const connectionsCheck: Check<CheckContext> = {
  id: "tunnel-connections",
  component: COMPONENT,
  name: "Connections",
  needs: [TUNNEL],
  run: async (context) => {
    const { tunnel, value } = await readTunnel(context, (sdk, id, params) =>
      collect(sdk.zeroTrust.tunnels.cloudflared.connections.get(id, params)),
    );
    return connectionsResult(tunnel, value, context.facts.tunnel);
  },
};

/** One ingress rule as GET .../configurations returns it. */
interface RemoteRule {
  hostname?: string;
  service: string;
  path?: string;
  originRequest?: { access?: { required?: boolean; teamName?: string; audTags?: string[] } };
}

/** The tunnel configuration as GET .../configurations returns it. */
export interface RemoteConfigInfo {
  source?: string;
  version?: number;
  config?: {
    ingress?: RemoteRule[];
    originRequest?: { connectTimeout?: number; http2Origin?: boolean; noTLSVerify?: boolean };
  };
}

/** cloudflared's own defaults, which the API may leave out. */
const ORIGIN_DEFAULTS: RemoteTunnelConfig["originRequest"] = {
  connectTimeout: 30,
  http2Origin: false,
  noTLSVerify: false,
};

type ExpectedRule = RemoteTunnelConfig["ingress"][number];

/** Whether cloudflared requires Access's token on a remote rule: required, with an application's `aud`. */
function remoteAccess(r: RemoteRule): { teamName?: string } | undefined {
  const access = r.originRequest?.access;
  return access?.required && (access.audTags?.length ?? 0) > 0 ? { teamName: access.teamName } : undefined;
}

const describeRule = (
  r: { hostname?: string; service: string; path?: string },
  access: { teamName?: string } | undefined,
) =>
  `${r.hostname || "(catch-all)"}${r.path ? r.path : ""} → ${r.service}${access ? ` [Access${access.teamName ? ` ${access.teamName}` : ""}]` : ""}`;

/** A remote rule is what the stack sets: same route, and Access required exactly where the stack requires it. */
function sameRule(want: ExpectedRule, have: RemoteRule): boolean {
  const access = remoteAccess(have);
  const sameAccess = want.access
    ? access !== undefined && (want.access.teamName === undefined || want.access.teamName === access.teamName)
    : access === undefined;
  return sameAccess && describeRule(want, undefined) === describeRule(have, undefined);
}

export function configDriftResult(remote: RemoteConfigInfo, expected: RemoteTunnelConfig): Result {
  if (remote.source !== "cloudflare") {
    return fail(`the tunnel takes its configuration from a local file (source ${remote.source ?? "?"})`, "pulumi up");
  }
  const actual = remote.config?.ingress ?? [];
  const differences: string[] = [];
  for (let i = 0; i < Math.max(actual.length, expected.ingress.length); i++) {
    const [want, have] = [expected.ingress[i], actual[i]];
    if (want && have && sameRule(want, have)) continue;
    const haveText = have ? describeRule(have, remoteAccess(have)) : "none";
    differences.push(
      `rule ${i + 1}: ${haveText}${want ? ` (the stack sets ${describeRule(want, want.access)})` : " (the stack sets none)"}`,
    );
  }
  const origin = { ...ORIGIN_DEFAULTS, ...remote.config?.originRequest };
  for (const [key, value] of Object.entries(expected.originRequest)) {
    const have = origin[key as keyof typeof origin];
    if (have !== value) differences.push(`originRequest.${key} ${have} (the stack sets ${value})`);
  }
  return differences.length > 0
    ? fail(
        `drifted from the stack: ${differences.join("; ")}`,
        "pulumi up restores it (someone edited the tunnel in the dashboard)",
      )
    : ok(`version ${remote.version ?? "?"}: ${count(expected.ingress.length, "rule")} as the stack sets them`);
}

export const configDriftCheck: Check<CheckContext> = {
  id: "tunnel-config",
  component: COMPONENT,
  name: "Remote configuration",
  needs: [TUNNEL],
  run: async (context) => {
    const { value } = await readTunnel(context, (sdk, id, params) =>
      sdk.zeroTrust.tunnels.cloudflared.configurations.get(id, params),
    );
    return configDriftResult(value, context.facts.tunnel.config);
  },
};

export const cnamesCheck: Check<CheckContext> = {
  id: "tunnel-dns",
  component: COMPONENT,
  name: "DNS records",
  needs: [TUNNEL],
  run: async (context) => {
    const [tunnel] = await namedTunnels(context);
    return cnamesResult(await routedRecords(context), tunnel?.id ?? "", context.facts.tunnel);
  },
};
