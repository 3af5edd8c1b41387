/**
 * The config gate: reads what the Pulumi CLI hands the program (`homecluster:<key>` → string), validates every
 * key against config/schema.ts, runs the checks that need several keys, normalises the routes, and applies the
 * defaults that depend on other keys. index.ts calls `loadConfig()` once, before creating anything; invalid config
 * throws one ConfigError naming every key that is wrong.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { defaultVersions } from "../versions";
import { adoptionChecks, resolveAdoption } from "./adoption";
import { crossChecks } from "./checks";
import { ConfigError, didYouMean, type ConfigIssue } from "./issues";
import { ownNamespaces } from "./namespaces";
import { normaliseRoutes } from "./routes";
import {
  CONFIG_KEYS,
  configSchema,
  DISTRIBUTION_API,
  PROJECT,
  type ConfigSecrets,
  type HomeclusterConfig,
} from "./schema";

/** Keys the CLI hands over as JSON (objects and lists): every key whose schema is not a plain string. */
const STRUCTURED_KEYS = new Set(
  Object.entries(z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }).properties ?? {})
    .filter(([, property]) => typeof property !== "object" || property.type !== "string")
    .map(([key]) => key),
);

function keyOf(path: ReadonlyArray<PropertyKey>): string {
  let key = PROJECT;
  path.forEach((part, index) => {
    if (typeof part === "number") key += `[${part}]`;
    else key += `${index === 0 ? ":" : "."}${String(part)}`;
  });
  return key;
}

/**
 * The fields the schema knows for the object at `path`; for a union, those of every shape it allows (a route's
 * three). Wrappers (optional, default, preprocess…) are looked through.
 */
function fieldsAt(schema: z.core.$ZodType, path: ReadonlyArray<PropertyKey>): string[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const inner = (key: string) => fieldsAt(def[key] as z.core.$ZodType, path);
  const [head, ...rest] = path;
  switch (def.type) {
    case "object": {
      const shape = def.shape as Record<string, z.core.$ZodType>;
      if (head === undefined) return Object.keys(shape);
      const field = typeof head === "string" ? shape[head] : undefined;
      return field ? fieldsAt(field, rest) : [];
    }
    case "array":
      return typeof head === "number" ? fieldsAt(def.element as z.core.$ZodType, rest) : [];
    case "record":
      return head === undefined ? [] : fieldsAt(def.valueType as z.core.$ZodType, rest);
    case "union":
      return [...new Set((def.options as z.core.$ZodType[]).flatMap((option) => fieldsAt(option, path)))];
    case "pipe":
      return [...new Set([...inner("in"), ...inner("out")])];
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
    case "nonoptional":
      return inner("innerType");
    default:
      return [];
  }
}

/** `'meshNamespace' (did you mean 'meshNamespaces'?)`, or just the quoted key when nothing known is close. */
function unknownField(key: string, known: readonly string[]): string {
  const guess = didYouMean(key, known);
  return guess ? `'${key}' (${guess})` : `'${key}'`;
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => {
    const key = keyOf(issue.path);
    // With reportInput, a missing key has input undefined; a present value of the wrong type keeps its input.
    if (issue.code === "invalid_type" && issue.input === undefined) return { key, message: "is required but not set" };
    if (issue.code === "unrecognized_keys") {
      const known = fieldsAt(configSchema, issue.path).filter((field) => !issue.keys.includes(field));
      return { key, message: `has unknown field(s) ${issue.keys.map((k) => unknownField(k, known)).join(", ")}` };
    }
    return { key, message: issue.message };
  });
}

/** The plain keys' values: structured ones parsed from JSON, unknown keys of this project reported. */
function readRaw(values: Readonly<Record<string, string>>): { raw: Record<string, unknown>; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const raw: Record<string, unknown> = {};
  const known = new Set(CONFIG_KEYS);
  for (const fullKey of Object.keys(values)) {
    const [namespace, key] = fullKey.split(":");
    if (namespace === PROJECT && key !== undefined && !known.has(key)) {
      const guess = didYouMean(key, CONFIG_KEYS);
      issues.push({
        key: fullKey,
        message: `is not a setting of this stack${guess ? `; ${guess}` : ""} (known: ${[...known].sort().join(", ")})`,
      });
    }
  }
  for (const key of Object.keys(configSchema.shape)) {
    const text = values[`${PROJECT}:${key}`];
    if (text === undefined) continue;
    if (!STRUCTURED_KEYS.has(key)) {
      raw[key] = text;
      continue;
    }
    try {
      raw[key] = JSON.parse(text);
    } catch {
      issues.push({ key: `${PROJECT}:${key}`, message: "must be a YAML object or list in the stack file" });
    }
  }
  return { raw, issues };
}

/**
 * Validates and normalises the plain keys (as parsed from the stack file). Pure: the tests call it directly. Throws
 * ConfigError listing every problem, `extra` included, each naming its key.
 */
export function parseConfig(raw: Record<string, unknown>, stack: string, extra: ConfigIssue[] = []): HomeclusterConfig {
  // Pulumi.yaml gives optional keys an empty default (the CLI requires declared keys without one): empty is unset.
  const set = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ""));
  const parsed = configSchema.safeParse(set, { reportInput: true });
  if (!parsed.success) {
    // A key already reported (not JSON, say) is not reported again as missing.
    const reported = extra.map((issue) => issue.key);
    const within = (key: string, reportedKey: string) =>
      key === reportedKey || key.startsWith(`${reportedKey}.`) || key.startsWith(`${reportedKey}[`);
    const fresh = zodIssues(parsed.error).filter((issue) => !reported.some((key) => within(issue.key, key)));
    throw new ConfigError([...extra, ...fresh]);
  }
  const config = parsed.data;
  const normalised = normaliseRoutes(config.routes, {
    domain: config.domain,
    meshNamespaces: config.istio.meshNamespaces,
    accessPolicies: Object.keys(config.access.policies),
  });
  const issues = [
    ...extra,
    ...normalised.issues,
    ...crossChecks(config, normalised.routes),
    ...adoptionChecks(config, normalised.routes),
  ];
  if (issues.length > 0) throw new ConfigError(issues);

  const api = DISTRIBUTION_API[config.distribution];
  return {
    ...config,
    owner: { project: PROJECT, stack },
    versions: { ...defaultVersions, ...config.versions },
    cilium: {
      ...config.cilium,
      // crossChecks refused a missing host where the distribution provides none.
      k8sServiceHost: config.cilium.k8sServiceHost ?? api!.host,
      k8sServicePort: config.cilium.k8sServicePort ?? api?.port ?? 6443,
    },
    routes: normalised.routes,
    externalDns: { ...config.externalDns, txtOwnerId: config.externalDns.txtOwnerId ?? `${PROJECT}-${stack}` },
    namespaces: ownNamespaces(config),
    adopt: resolveAdoption(config.adopt),
  };
}

/**
 * The plain config from what the CLI hands a program (`homecluster:<key>` → string): each key read, then parsed.
 * Throws ConfigError listing every problem, `extra` (the secrets') included.
 */
export function parseConfigValues(
  values: Readonly<Record<string, string>>,
  stack: string,
  extra: ConfigIssue[] = [],
): HomeclusterConfig {
  const { raw, issues } = readRaw(values);
  return parseConfig(raw, stack, [...issues, ...extra]);
}

/**
 * Whether the CLI handed a key over as a secret (encrypted in the stack file). The SDK has this at run time but keeps
 * it out of its typings.
 */
function isConfigSecret(key: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  return runtime.isConfigSecret?.(key) ?? true;
}

/** Loads the stack's config and secrets once; index.ts calls this before creating anything. */
export function loadConfig(): { config: HomeclusterConfig; secrets: ConfigSecrets } {
  const values = pulumi.runtime.allConfig();
  const issues: ConfigIssue[] = [];
  const cfg = new pulumi.Config(PROJECT);
  // Presence is checked without reading the value, so a missing secret is a config error, not a stack trace.
  const secret = (key: string): pulumi.Output<string> | undefined => {
    const value = values[`${PROJECT}:${key}`];
    if (value === undefined || value === "") return undefined;
    if (!isConfigSecret(`${PROJECT}:${key}`)) {
      issues.push({
        key: `${PROJECT}:${key}`,
        message: `is stored in plain text in the stack file; remove it and run: pulumi config set --secret ${key} <token>`,
      });
    }
    return cfg.requireSecret(key);
  };
  const cloudflareApiToken = secret("cloudflareApiToken");
  const externalDnsApiToken = secret("externalDnsApiToken");
  if (!cloudflareApiToken) {
    issues.push({
      key: `${PROJECT}:cloudflareApiToken`,
      message: "is required but not set (pulumi config set --secret cloudflareApiToken <token>)",
    });
  }
  const config = parseConfigValues(values, pulumi.getStack(), issues);
  return {
    config,
    // parseConfig threw had the token been missing.
    secrets: { cloudflareApiToken: cloudflareApiToken!, ...(externalDnsApiToken ? { externalDnsApiToken } : {}) },
  };
}
