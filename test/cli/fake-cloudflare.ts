/**
 * A Cloudflare API v4 on 127.0.0.1 for the CLI's tests (point CLOUDFLARE_BASE_URL at `url`). It answers the reads
 * preflight and doctor make with the documented envelope `{success, errors, messages, result, result_info}`,
 * refuses any other bearer token with 401/1000 as the API does, and pages lists as the SDK expects: it asks for
 * page N+1 until a page comes back empty.
 */
import * as http from "node:http";
import { answerWrite, type WritableState } from "./fake-cloudflare-writes";
import { listen, type FakeServer } from "./fake-kube";

export interface AccountState {
  /** The one token the API accepts. */
  token: string;
  /** GET /user/tokens/verify's result. */
  verify: { id: string; status: string; expires_on?: string };
  /** GET /user/tokens/{id}'s result; a number answers with that HTTP status instead. */
  tokenDetails: Record<string, any> | number;
  zone: Record<string, any>;
  account: Record<string, any>;
  tunnels: Record<string, any>[];
  /** GET .../cfd_tunnel/{id}/connections' result, by tunnel id. */
  connections: Record<string, Record<string, any>[]>;
  /** GET .../cfd_tunnel/{id}/configurations' result, by tunnel id. */
  configurations: Record<string, Record<string, any>>;
  records: Record<string, any>[];
  /** Who owns the token: a user (it verifies at /user/tokens/verify) or the account (at /accounts/{id}/tokens/verify). */
  owner?: "user" | "account";
  /**
   * GET /accounts/{id}/access/organizations' result; null: the account has none, answered as third-party notes
   * report Cloudflare does (`access.api.error.not_enabled`; its HTTP status is not documented).
   */
  organization: Record<string, any> | null;
  /** GET /accounts/{id}/access/apps and .../access/policies: the account's Access applications and policies. */
  accessApps?: Record<string, any>[];
  accessPolicies?: Record<string, any>[];
  /** Quote the rejected bearer token in the 401's message: what the CLI prints must never hold it. */
  echoRejectedToken?: boolean;
}

const PREFIX = "/client/v4";

function envelope(result: unknown, resultInfo?: Record<string, number>) {
  return {
    success: true,
    errors: [],
    messages: [],
    result,
    ...(resultInfo ? { result_info: resultInfo } : {}),
  };
}

function failure(status: number, code: number, message: string) {
  return [status, { success: false, errors: [{ code, message }], messages: [], result: null }] as const;
}

/** One page of a V4 page-paginated list (the SDK's default page size is the API's, 20 here). */
function page(items: unknown[], query: URLSearchParams) {
  const perPage = Number(query.get("per_page") ?? 20);
  const number = Number(query.get("page") ?? 1);
  const slice = items.slice((number - 1) * perPage, number * perPage);
  return envelope(slice, {
    page: number,
    per_page: perPage,
    count: slice.length,
    total_count: items.length,
    total_pages: Math.ceil(items.length / perPage),
  });
}

function answer(state: AccountState, url: URL): readonly [number, unknown] {
  const parts = url.pathname.slice(PREFIX.length).split("/").filter(Boolean);
  const query = url.searchParams;
  const accountId = state.account.id as string;
  const zoneId = state.zone.id as string;
  const unknownRoute = failure(
    404,
    7003,
    `Could not route to ${url.pathname}, perhaps your object identifier is invalid?`,
  );
  const [first, id, resource, tunnelId, sub] = parts;

  const accountOwned = state.owner === "account";
  if (first === "user" && id === "tokens" && resource === "verify") {
    if (accountOwned) return failure(401, 1000, "Invalid API Token");
    return [
      200,
      {
        ...envelope(state.verify),
        messages: [{ code: 10000, message: "This API Token is valid and active", type: null }],
      },
    ];
  }
  if (first === "user" && id === "tokens" && resource === state.verify.id) {
    return typeof state.tokenDetails === "number"
      ? failure(state.tokenDetails, 10000, "Authentication error")
      : [200, envelope(state.tokenDetails)];
  }
  if (first === "zones" && id === zoneId && resource === undefined) return [200, envelope(state.zone)];
  if (first === "zones" && id === zoneId && resource === "dns_records") {
    const name = query.get("name.exact") ?? query.get("name");
    return [
      200,
      page(
        state.records.filter((r) => name === null || r.name === name),
        query,
      ),
    ];
  }
  if (first === "accounts" && id === accountId) {
    if (resource === undefined) return [200, envelope(state.account)];
    // A user token is not an account-owned one.
    if (resource === "tokens" && tunnelId === "verify") {
      return accountOwned ? [200, envelope(state.verify)] : failure(401, 1000, "Invalid API Token");
    }
    if (resource === "tokens" && tunnelId === state.verify.id && accountOwned) {
      return typeof state.tokenDetails === "number"
        ? failure(state.tokenDetails, 10000, "Authentication error")
        : [200, envelope(state.tokenDetails)];
    }
    if (resource === "access" && tunnelId === "organizations") {
      return state.organization
        ? [200, envelope(state.organization)]
        : failure(400, 9999, "access.api.error.not_enabled");
    }
    if (resource === "access" && tunnelId === "apps") return [200, page(state.accessApps ?? [], query)];
    if (resource === "access" && tunnelId === "policies") return [200, page(state.accessPolicies ?? [], query)];
    if (resource === "cfd_tunnel" && tunnelId === undefined) {
      const name = query.get("name");
      const live = query.get("is_deleted") === "false";
      return [
        200,
        page(
          state.tunnels.filter((t) => (name === null || t.name === name) && (!live || t.deleted_at === null)),
          query,
        ),
      ];
    }
    if (resource === "cfd_tunnel" && sub === "connections" && tunnelId! in state.connections) {
      return [200, envelope(state.connections[tunnelId!])];
    }
    if (resource === "cfd_tunnel" && sub === "configurations" && tunnelId! in state.configurations) {
      return [200, envelope(state.configurations[tunnelId!])];
    }
  }
  return unknownRoute;
}

/**
 * Serves `state`. With the collections of WritableState it also takes a provider's writes (fake-cloudflare-writes.ts)
 * and changes `state` as the API would; without them it answers reads only.
 */
export function startFakeCloudflare(state: AccountState | (AccountState & WritableState)): Promise<FakeServer> {
  const requests: string[] = [];
  const server = http.createServer(async (request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const url = new URL(request.url ?? "/", "http://fake");
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const parts = url.pathname.slice(PREFIX.length).split("/").filter(Boolean);
    const write = () =>
      "mintedTokens" in state
        ? answerWrite(state, request.method ?? "GET", parts, text ? JSON.parse(text) : {})
        : undefined;
    const [status, body] =
      request.headers.authorization === `Bearer ${state.token}`
        ? (write() ?? answer(state, url))
        : failure(
            401,
            1000,
            state.echoRejectedToken ? `Invalid API Token (${request.headers.authorization})` : "Invalid API Token",
          );
    response.writeHead(status, { "Content-Type": "application/json" });
    response.end(JSON.stringify(body));
  });
  return listen(server, requests, PREFIX);
}
