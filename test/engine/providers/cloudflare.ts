/**
 * A stand-in for the Cloudflare provider plugin (pulumi-resource-cloudflare), which cannot be built here: a Node
 * provider that keeps its resources in the local fake Cloudflare API (test/cli/fake-cloudflare.ts) at
 * $HOMECLUSTER_FAKE_CLOUDFLARE, through the API's own paths, so that what an `up` creates is what doctor reads
 * afterwards. It refuses an input the real provider's schema does not have (read from @pulumi/cloudflare), replaces
 * where the real provider replaces, and answers the three functions the program calls. The token comes from
 * CLOUDFLARE_API_TOKEN: the Node provider server does not hand a provider its configuration.
 */
import path from "node:path";
import { main, type Provider } from "@pulumi/pulumi/provider";
import { packageVersion, sdkInputNames, unknownInputs } from "./sdk-schema";
import { diffInputs, plain, secret } from "./values";

const api = process.env["HOMECLUSTER_FAKE_CLOUDFLARE"];
const token = process.env["CLOUDFLARE_API_TOKEN"];
const sdkDir = path.dirname(require.resolve("@pulumi/cloudflare/package.json"));
const schema = sdkInputNames(sdkDir);

async function call(method: string, route: string, body?: unknown): Promise<any> {
  if (!api) throw new Error("HOMECLUSTER_FAKE_CLOUDFLARE is not set: the stand-in has no API to call");
  const response = await fetch(`${api}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as {
    success: boolean;
    errors: { code: number; message: string }[];
    result: any;
  };
  if (!answer.success) {
    const [error] = answer.errors;
    throw new Error(`${method} ${route}: ${response.status} ${error?.code} ${error?.message}`);
  }
  return answer.result;
}

const TYPES = {
  tunnel: "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
  config: "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
  record: "cloudflare:index/dnsRecord:DnsRecord",
  token: "cloudflare:index/apiToken:ApiToken",
  application: "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication",
  policy: "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy",
} as const;

/** A URN's resource type: `urn:pulumi:<stack>::<project>::<parent types $>type::<name>`. */
const typeOf = (urn: string) => urn.split("::")[2]!.split("$").pop()!;

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** The API's field names for the provider's: snake_case, at every level. */
function toApi(value: unknown): any {
  if (Array.isArray(value)) return value.map(toApi);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), toApi(v)]));
  }
  return value;
}

/** The tunnel configuration in cloudflared's field names, as the API stores it (`ingress`, `noTLSVerify`). */
function tunnelConfig(config: any) {
  const { ingresses, originRequest, ...rest } = config;
  const origin = ({ noTlsVerify, ...o }: any) => ({
    ...o,
    ...(noTlsVerify === undefined ? {} : { noTLSVerify: noTlsVerify }),
  });
  return {
    ...rest,
    ingress: (ingresses ?? []).map((rule: any) => ({
      ...rule,
      ...(rule.originRequest ? { originRequest: origin(rule.originRequest) } : {}),
    })),
    ...(originRequest ? { originRequest: origin(originRequest) } : {}),
  };
}

/** Access rules: the provider's plural lists are the API's `include`, `exclude`, `require`. */
function accessPolicy(inputs: any) {
  const { includes, excludes, requires, ...rest } = inputs;
  delete rest.accountId;
  return { ...toApi(rest), include: includes ?? [], exclude: excludes ?? [], require: requires ?? [] };
}

/** An API token's policies: `resources` is a JSON-encoded object in the provider, an object in the API. */
function tokenPolicies(policies: any[]) {
  return policies.map((p) => ({ ...toApi(p), resources: JSON.parse(p.resources) }));
}

interface Handler {
  /** Inputs whose change replaces the resource (the real provider's RequiresReplace). */
  replaceOn: string[];
  create(inputs: any): Promise<{ id: string; outs: Record<string, unknown> }>;
  update?(id: string, inputs: any): Promise<Record<string, unknown>>;
  delete(id: string, state: any): Promise<void>;
  /** The resource as the API has it (an import), or undefined when it is gone. */
  read(id: string, state: any): Promise<Record<string, unknown> | undefined>;
}

const gone = async (request: Promise<any>) =>
  request.catch((e: Error) => (/ 404 /.test(e.message) ? undefined : Promise.reject(e)));

const handlers: Record<string, Handler> = {
  [TYPES.tunnel]: {
    replaceOn: ["accountId", "tunnelSecret", "configSrc"],
    async create(i) {
      const t = await call("POST", `/accounts/${i.accountId}/cfd_tunnel`, {
        name: i.name,
        tunnel_secret: i.tunnelSecret,
        config_src: i.configSrc,
      });
      return { id: t.id, outs: { accountTag: t.account_tag, createdAt: t.created_at, status: t.status } };
    },
    async update(id, i) {
      await call("PATCH", `/accounts/${i.accountId}/cfd_tunnel/${id}`, { name: i.name });
      return {};
    },
    async delete(id, s) {
      await call("DELETE", `/accounts/${s.accountId}/cfd_tunnel/${id}`);
    },
    async read(id, s) {
      const [account, tunnel] = id.includes("/") ? id.split("/") : [s.accountId, id];
      const t = await gone(call("GET", `/accounts/${account}/cfd_tunnel/${tunnel}`));
      // The secret is never read back: the API does not return it.
      return t && { accountId: account, name: t.name, configSrc: t.config_src, accountTag: t.account_tag };
    },
  },
  [TYPES.config]: {
    replaceOn: ["accountId", "tunnelId"],
    async create(i) {
      const c = await call("PUT", `/accounts/${i.accountId}/cfd_tunnel/${i.tunnelId}/configurations`, {
        config: tunnelConfig(i.config),
      });
      return { id: i.tunnelId, outs: { version: c.version, source: "cloudflare" } };
    },
    async update(_id, i) {
      const c = await call("PUT", `/accounts/${i.accountId}/cfd_tunnel/${i.tunnelId}/configurations`, {
        config: tunnelConfig(i.config),
      });
      return { version: c.version, source: "cloudflare" };
    },
    // The API has no delete: the configuration goes with its tunnel, as the real provider's delete is a no-op.
    async delete() {},
    async read(id, s) {
      const [account, tunnel] = id.includes("/") ? id.split("/") : [s.accountId, id];
      const t = await gone(call("GET", `/accounts/${account}/cfd_tunnel/${tunnel}`));
      return t && { accountId: account, tunnelId: tunnel };
    },
  },
  [TYPES.record]: {
    replaceOn: ["zoneId"],
    async create(i) {
      const { zoneId, ...record } = i;
      const r = await call("POST", `/zones/${zoneId}/dns_records`, toApi(record));
      return { id: r.id, outs: { createdOn: r.created_on, modifiedOn: r.modified_on } };
    },
    async update(id, i) {
      const { zoneId, ...record } = i;
      const r = await call("PUT", `/zones/${zoneId}/dns_records/${id}`, toApi(record));
      return { modifiedOn: r.modified_on };
    },
    async delete(id, s) {
      await call("DELETE", `/zones/${s.zoneId}/dns_records/${id}`);
    },
    async read(id, s) {
      const [zone, record] = id.includes("/") ? id.split("/") : [s.zoneId, id];
      const r = await gone(call("GET", `/zones/${zone}/dns_records/${record}`));
      return (
        r && {
          zoneId: zone,
          name: r.name,
          type: r.type,
          content: r.content,
          proxied: r.proxied,
          ttl: r.ttl,
          comment: r.comment,
        }
      );
    },
  },
  [TYPES.token]: {
    replaceOn: [],
    async create(i) {
      const t = await call("POST", "/user/tokens", { name: i.name, policies: tokenPolicies(i.policies) });
      return { id: t.id, outs: { value: t.value, status: t.status, issuedOn: t.issued_on } };
    },
    async update(id, i) {
      await call("DELETE", `/user/tokens/${id}`);
      const t = await call("POST", "/user/tokens", { name: i.name, policies: tokenPolicies(i.policies) });
      return { value: t.value, status: t.status };
    },
    async delete(id) {
      await call("DELETE", `/user/tokens/${id}`);
    },
    async read(id) {
      // The value is never read back: the API shows a token's value once, when it is created.
      const t = await gone(call("GET", `/user/tokens/${id}`));
      return t && { name: t.name, status: t.status };
    },
  },
  [TYPES.policy]: {
    replaceOn: ["accountId"],
    async create(i) {
      const p = await call("POST", `/accounts/${i.accountId}/access/policies`, accessPolicy(i));
      return { id: p.id, outs: { createdAt: p.created_at } };
    },
    async update(id, i) {
      await call("PUT", `/accounts/${i.accountId}/access/policies/${id}`, accessPolicy(i));
      return {};
    },
    async delete(id, s) {
      await call("DELETE", `/accounts/${s.accountId}/access/policies/${id}`);
    },
    async read(id, s) {
      const [account, policy] = id.includes("/") ? id.split("/") : [s.accountId, id];
      const p = await gone(call("GET", `/accounts/${account}/access/policies/${policy}`));
      return p && { accountId: account, name: p.name, decision: p.decision, includes: p.include };
    },
  },
  [TYPES.application]: {
    replaceOn: ["accountId", "zoneId"],
    async create(i) {
      const { accountId, ...application } = i;
      const a = await call("POST", `/accounts/${accountId}/access/apps`, toApi(application));
      return { id: a.id, outs: { aud: a.aud, createdAt: a.created_at } };
    },
    async update(id, i) {
      const { accountId, ...application } = i;
      const a = await call("PUT", `/accounts/${accountId}/access/apps/${id}`, toApi(application));
      return { aud: a.aud };
    },
    async delete(id, s) {
      await call("DELETE", `/accounts/${s.accountId}/access/apps/${id}`);
    },
    async read(id, s) {
      const [account, application] = id.includes("/") ? id.split("/") : [s.accountId, id];
      const a = await gone(call("GET", `/accounts/${account}/access/apps/${application}`));
      return a && { accountId: account, name: a.name, domain: a.domain, type: a.type, aud: a.aud };
    },
  },
};

function handlerOf(urn: string): Handler {
  const handler = handlers[typeOf(urn)];
  if (!handler) throw new Error(`the Cloudflare stand-in does not serve ${typeOf(urn)}`);
  return handler;
}

/** Outputs that are secret in the real provider's schema. */
const SECRET_OUTPUTS: Record<string, string[]> = { [TYPES.token]: ["value"] };

/**
 * The state: the inputs as given, then what the API computed. A computed field that is also an input the program
 * left out (a DNS record's `ttl`, a config's `source`) is not kept: the provider only sees old outputs when it diffs,
 * and would take it for an input that was removed.
 */
function outputs(urn: string, inputs: Record<string, unknown>, computed: Record<string, unknown>) {
  const secrets = SECRET_OUTPUTS[typeOf(urn)] ?? [];
  const inputNames = schema.get(typeOf(urn)) ?? new Set();
  return {
    ...inputs,
    ...Object.fromEntries(
      Object.entries(computed)
        .filter(([k]) => !inputNames.has(k) || k in inputs)
        .map(([k, v]) => [k, secrets.includes(k) ? secret(v) : v]),
    ),
  };
}

const provider: Provider = {
  version: packageVersion("@pulumi/cloudflare"),
  async check(urn, _olds, news) {
    return { inputs: news, failures: unknownInputs(schema, typeOf(urn), news) };
  },
  async diff(_id, urn, olds, news) {
    const handler = handlerOf(urn);
    const result = diffInputs(schema.get(typeOf(urn)) ?? new Set(), olds, news, handler.replaceOn);
    // Tunnel names are unique per account: a replacement must delete first (so must a record's, one per name).
    return { ...result, deleteBeforeReplace: true };
  },
  async create(urn, inputs) {
    const { id, outs } = await handlerOf(urn).create(plain(inputs));
    return { id, outs: outputs(urn, inputs, outs) };
  },
  async update(id, urn, olds, news) {
    const handler = handlerOf(urn);
    const computed = await handler.update!(id, plain(news));
    const kept = Object.fromEntries(
      Object.entries(olds).filter(([k]) => !(schema.get(typeOf(urn)) ?? new Set()).has(k)),
    );
    return { outs: { ...kept, ...outputs(urn, news, computed) } };
  },
  async delete(id, urn, props) {
    await handlerOf(urn).delete(id, plain(props));
  },
  async read(id, urn, props) {
    const found = await handlerOf(urn).read(id, plain(props ?? {}));
    if (!found) return {};
    const plainId = id.includes("/") ? id.slice(id.lastIndexOf("/") + 1) : id;
    // An import (no state yet) takes everything the API has; a refresh takes what the API has of the state's fields
    // and keeps the rest, as the real provider keeps what the API never returns (a secret, a token's value).
    const inputNames = schema.get(typeOf(urn)) ?? new Set<string>();
    const importing = props === undefined || Object.keys(props).length === 0;
    // Only what the API has: an absent field is left out, as a struct holds no undefined.
    const defined = Object.entries(found).filter(([, v]) => v !== undefined && v !== null);
    const read = Object.fromEntries(importing ? defined : defined.filter(([k]) => k in props));
    const merged = { ...props, ...read };
    const inputs = Object.fromEntries(Object.entries(merged).filter(([k]) => inputNames.has(k)));
    return { id: plainId, props: merged, inputs };
  },
  async invoke(token, inputs) {
    const failures = unknownInputs(schema, token, inputs);
    if (failures.length > 0) return { failures };
    const i = plain(inputs);
    switch (token) {
      case "cloudflare:index/getZeroTrustOrganization:getZeroTrustOrganization": {
        const org = await call("GET", `/accounts/${i.accountId}/access/organizations`);
        return { outputs: { ...inputs, authDomain: org.auth_domain, name: org.name } };
      }
      case "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList": {
        const groups: { id: string; name: string; scopes: string[] }[] = await call(
          "GET",
          "/user/tokens/permission_groups",
        );
        const wanted = typeof i.name === "string" ? decodeURIComponent(i.name) : undefined;
        const scope = typeof i.scope === "string" ? i.scope : undefined;
        return {
          outputs: {
            ...inputs,
            results: groups.filter(
              (g) => (wanted === undefined || g.name === wanted) && (!scope || g.scopes.includes(scope)),
            ),
          },
        };
      }
      case "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken": {
        const value = await call("GET", `/accounts/${i.accountId}/cfd_tunnel/${i.tunnelId}/token`);
        // Plain, as the real provider answers it (DESIGN.md: the program wraps it in pulumi.secret).
        return { outputs: { ...inputs, token: value } };
      }
      default:
        throw new Error(`the Cloudflare stand-in does not serve ${token}`);
    }
  },
};

void main(provider, process.argv.slice(2));
