/**
 * What the fake Cloudflare API does beyond the reads preflight and doctor make: the calls a Cloudflare provider makes
 * to create, read back, change and delete the stack's resources (tunnels, their configuration and token, DNS records,
 * API tokens, Access policies and applications), on the API v4 paths and envelopes. The engine tier's stand-in
 * provider makes them, so what an `up` creates is what doctor reads afterwards.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { AccountState } from "./fake-cloudflare";

/** The collections the writes keep, beside what AccountState already holds. */
export interface WritableState {
  /** Tokens minted through POST /user/tokens (their values are answered once, at creation). */
  mintedTokens: Record<string, any>[];
  accessPolicies: Record<string, any>[];
  accessApplications: Record<string, any>[];
  /** Permission groups GET /user/tokens/permission_groups lists. */
  permissionGroups: { id: string; name: string; scopes: string[] }[];
}

export type Answer = readonly [number, unknown];

const ok = (result: unknown): Answer => [200, { success: true, errors: [], messages: [], result }];
const notFound = (what: string): Answer => [
  404,
  { success: false, errors: [{ code: 1003, message: `${what} not found` }], messages: [], result: null },
];
const conflict = (code: number, message: string): Answer => [
  409,
  { success: false, errors: [{ code, message }], messages: [], result: null },
];

const now = () => new Date().toISOString();
const hex = (bytes: number) => randomBytes(bytes).toString("hex");

function byId<T extends Record<string, any>>(items: T[], id: string | undefined): T | undefined {
  return items.find((item) => item.id === id);
}

/** A tunnel as the API shows it: never its secret. */
function withoutSecret(tunnel: Record<string, any>): Record<string, any> {
  return Object.fromEntries(Object.entries(tunnel).filter(([key]) => key !== "secret"));
}

function remove<T extends Record<string, any>>(items: T[], id: string | undefined): T | undefined {
  const index = items.findIndex((item) => item.id === id);
  return index === -1 ? undefined : items.splice(index, 1)[0];
}

/**
 * Answers a write, or a read of something only writes make; undefined when the path is not one of these (the
 * caller then answers as before). `parts` is the path below /client/v4, split at '/'.
 */
export function answerWrite(
  state: AccountState & WritableState,
  method: string,
  parts: string[],
  body: any,
): Answer | undefined {
  const [first, id, resource, itemId, sub] = parts;
  const account = state.account.id as string;
  const zone = state.zone.id as string;

  if (first === "user" && id === "tokens") {
    if (resource === "permission_groups" && method === "GET") return ok(state.permissionGroups);
    if (resource === undefined && method === "POST") {
      const token = { id: hex(16), name: body.name, status: "active", policies: body.policies, issued_on: now() };
      state.mintedTokens.push(token);
      return ok({ ...token, value: `minted-${hex(20)}` });
    }
    const token = byId(state.mintedTokens, resource);
    if (token && method === "GET") return ok(token);
    if (token && method === "DELETE") return ok({ id: remove(state.mintedTokens, resource)!.id });
    // Anything else (verify, the deploy token itself) is a read the fake answers as before.
    return undefined;
  }

  if (first === "zones" && id === zone && resource === "dns_records" && itemId !== undefined) {
    const record = byId(state.records, itemId);
    if (!record) return notFound("record");
    if (method === "GET") return ok(record);
    if (method === "DELETE") return ok({ id: remove(state.records, itemId)!.id });
    if (method === "PUT" || method === "PATCH") {
      Object.assign(record, method === "PUT" ? { ...body, id: record.id } : body, { modified_on: now() });
      return ok(record);
    }
  }
  if (first === "zones" && id === zone && resource === "dns_records" && method === "POST") {
    if (state.records.some((r) => r.name === body.name && (r.type === "CNAME" || body.type === "CNAME"))) {
      return conflict(81053, "An A, AAAA, or CNAME record with that host already exists.");
    }
    const record = { ...body, id: hex(16), zone_id: zone, created_on: now(), modified_on: now() };
    state.records.push(record);
    return ok(record);
  }

  if (first !== "accounts" || id !== account) return undefined;

  if (resource === "cfd_tunnel" && itemId === undefined && method === "POST") {
    if (state.tunnels.some((t) => t.name === body.name && t.deleted_at === null)) {
      return conflict(1013, "You already have a tunnel with this name.");
    }
    const tunnel = {
      id: randomUUID(),
      account_tag: account,
      name: body.name,
      config_src: body.config_src ?? "local",
      created_at: now(),
      deleted_at: null,
      status: "inactive",
      // Kept so the token below can be answered; never returned by a read, as the API never does.
      secret: body.tunnel_secret,
    };
    state.tunnels.push(tunnel);
    state.connections[tunnel.id] = [];
    return ok(withoutSecret(tunnel));
  }
  if (resource === "cfd_tunnel" && itemId !== undefined) {
    const tunnel = state.tunnels.find((t) => t.id === itemId && t.deleted_at === null);
    if (!tunnel) return notFound("tunnel");
    const shown = withoutSecret(tunnel);
    if (sub === undefined && method === "GET") return ok(shown);
    if (sub === undefined && method === "PATCH") return ok(Object.assign(tunnel, { name: body.name ?? tunnel.name }));
    if (sub === undefined && method === "DELETE") return ok(Object.assign(tunnel, { deleted_at: now() }));
    if (sub === "token" && method === "GET") {
      return ok(Buffer.from(JSON.stringify({ a: account, t: tunnel.id, s: tunnel.secret })).toString("base64"));
    }
    if (sub === "configurations" && method === "PUT") {
      const version = (state.configurations[tunnel.id]?.version ?? 0) + 1;
      state.configurations[tunnel.id] = {
        tunnel_id: tunnel.id,
        account_id: account,
        config: body.config,
        source: "cloudflare",
        version,
        created_at: now(),
      };
      return ok(state.configurations[tunnel.id]);
    }
    return undefined;
  }

  if (resource === "access" && (itemId === "policies" || itemId === "apps")) {
    const items = itemId === "policies" ? state.accessPolicies : state.accessApplications;
    const objectId = parts[4];
    if (objectId === undefined && method === "GET") return ok(items);
    if (objectId === undefined && method === "POST") {
      const item = {
        ...body,
        id: randomUUID(),
        ...(itemId === "apps" ? { aud: hex(32) } : {}),
        created_at: now(),
        updated_at: now(),
      };
      items.push(item);
      return ok(item);
    }
    const item = byId(items, objectId);
    if (!item) return notFound(itemId === "apps" ? "application" : "policy");
    if (method === "GET") return ok(item);
    if (method === "PUT") return ok(Object.assign(item, body, { id: item.id, aud: item.aud, updated_at: now() }));
    if (method === "DELETE") return ok({ id: remove(items, objectId)!.id });
  }
  return undefined;
}
