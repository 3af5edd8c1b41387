/**
 * Runs the real program (index.ts) under Pulumi's mock runtime and records what it registers: every
 * resource with its inputs, parent, provider, options and dependencies, every invoke, and the stack outputs.
 * Invokes the mocks do not know fail the run, so an unmocked provider call is a test failure, not `{}`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { vi } from "vitest";
import { parse as parseYaml } from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
export const STACK = "homecluster";
/** The secret value tests give `homecluster:cloudflareApiToken`. */
export const TEST_API_TOKEN = "test-cloudflare-api-token";
/** What the mocked invoke returns as the tunnel token. */
export const MOCK_TUNNEL_TOKEN = "mock-tunnel-token-eyJhIjoiYiJ9";
/** What the mocked ApiToken resource returns as its value. */
export const MOCK_MINTED_TOKEN = "mock-minted-external-dns-token";

/** The signature Pulumi puts on secret values in serialized inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  custom: boolean;
  parent: string | undefined;
  provider: string | undefined;
  protect: boolean;
  /** URNs this resource depends on (explicit `dependsOn` and the resources its input Outputs came from). */
  dependencies: string[];
  /** Inputs as sent, secrets still wrapped: use `unwrap` to read values and `containsSecret` to check them. */
  rawInputs: Record<string, unknown>;
  /** Inputs with secrets unwrapped. */
  inputs: Record<string, any>;
}

export interface RecordedCall {
  token: string;
  inputs: Record<string, any>;
}

export function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && SECRET_SIG in value;
}

export function unwrap(value: unknown): any {
  if (isSecretValue(value)) return unwrap(value.value);
  if (Array.isArray(value)) return value.map(unwrap);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

/** The value at a dotted path of raw inputs is a secret (or lies inside one). */
export function isSecretAt(raw: unknown, dottedPath: string): boolean {
  let node: unknown = raw;
  for (const part of dottedPath.split(".")) {
    if (isSecretValue(node)) return true;
    if (node === null || typeof node !== "object") return false;
    node = (node as Record<string, unknown>)[part];
  }
  return isSecretValue(node);
}

/** Every place a plain (unwrapped, non-secret) string equal to `needle` occurs, as dotted paths. */
export function plainOccurrences(raw: unknown, needle: string, at = ""): string[] {
  if (isSecretValue(raw)) return [];
  if (typeof raw === "string") return raw.includes(needle) ? [at] : [];
  if (raw && typeof raw === "object") {
    return Object.entries(raw).flatMap(([k, v]) => plainOccurrences(v, needle, at ? `${at}.${k}` : k));
  }
  return [];
}

export type ConfigValues = Record<string, unknown>;

/** The committed stack config (Pulumi.homecluster.yaml), keys without the project prefix. */
export function stackConfig(): ConfigValues {
  const file = parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${STACK}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(Object.entries(file.config).map(([k, v]) => [k.replace(/^homecluster:/, ""), v]));
}

/** The defaults Pulumi.yaml declares, which the CLI applies to keys the stack leaves unset. */
export function projectDefaults(): ConfigValues {
  const project = parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { default?: unknown }>;
  };
  return Object.fromEntries(
    Object.entries(project.config)
      .filter(([, declaration]) => declaration.default !== undefined)
      .map(([key, declaration]) => [key.replace(/^homecluster:/, ""), declaration.default]),
  );
}

export interface RunOptions {
  /** Keys to set or replace (whole values) on top of the committed config; `undefined` unsets a key. */
  config?: ConfigValues;
  /** Secret keys and their values. Default: `{ cloudflareApiToken: TEST_API_TOKEN }`. */
  secrets?: Record<string, string>;
  /** Run as `pulumi preview` (unknown outputs) instead of `pulumi up`. */
  preview?: boolean;
}

export interface ProgramRun {
  resources: RecordedResource[];
  calls: RecordedCall[];
  outputs: Record<string, { value: unknown; secret: boolean }>;
  /** The one resource of this type and name; throws if there is not exactly one. */
  get(type: string, name: string): RecordedResource;
  all(type: string): RecordedResource[];
  /** `resource` depends (directly) on `on`. */
  dependsOn(resource: RecordedResource, on: RecordedResource): boolean;
}

/** Mock state a provider would compute for the resources whose outputs the program reads. */
function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (type) {
    case "random:index/randomBytes:RandomBytes":
      return { ...inputs, base64: Buffer.from(`random-${name}`).toString("base64"), hex: "72616e646f6d" };
    case "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared":
      return { ...inputs, id: `${name}-tunnel-uuid` };
    case "cloudflare:index/apiToken:ApiToken":
      return { ...inputs, value: MOCK_MINTED_TOKEN };
    case "kubernetes:helm.sh/v3:Release":
      return {
        ...inputs,
        status: {
          name: inputs.name ?? name,
          namespace: inputs.namespace ?? "default",
          status: "deployed",
          version: inputs.version,
        },
      };
    default:
      return inputs;
  }
}

/** Invokes the program may make, with plausible provider answers. Anything else throws. */
function mockCall(token: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (token) {
    case "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken":
      return { ...inputs, token: MOCK_TUNNEL_TOKEN };
    case "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList": {
      const groups = [
        { id: "4755a26eedb94da69e1066d98aa820be", name: "DNS Write", scopes: ["com.cloudflare.api.account.zone"] },
        { id: "c8fed203ed3043cba015a93ad1616f1f", name: "Zone Read", scopes: ["com.cloudflare.api.account.zone"] },
        { id: "e6d2666161e84845a636613608cee8d5", name: "Zone Write", scopes: ["com.cloudflare.api.account.zone"] },
        { id: "82e64a83756745bbbb1c9c2701bf816b", name: "DNS Read", scopes: ["com.cloudflare.api.account.zone"] },
      ];
      const wanted = typeof inputs.name === "string" ? decodeURIComponent(inputs.name) : undefined;
      return { ...inputs, results: wanted ? groups.filter((g) => g.name === wanted) : groups };
    }
    default:
      throw new Error(`unmocked invoke ${token}(${JSON.stringify(inputs)})`);
  }
}

/** What the latest run registered, kept for runs that fail. */
let lastRegistered: RecordedResource[] = [];

function toConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Runs index.ts once with the committed config plus `options`, and returns what it registered. Each call
 * re-imports the program (vi.resetModules), so one test file may run several configs.
 */
export async function runProgram(options: RunOptions = {}): Promise<ProgramRun> {
  const resources: RecordedResource[] = [];
  lastRegistered = resources;
  const calls: RecordedCall[] = [];
  const monitorPrototype = MockMonitor.prototype as any;
  const originalRegister = monitorPrototype.__homeclusterOriginal ?? monitorPrototype.registerResource;
  monitorPrototype.__homeclusterOriginal = originalRegister;
  monitorPrototype.registerResource = async function (this: any, request: any, callback: any) {
    const parent: string = request.getParent();
    const type: string = request.getType();
    const name: string = request.getName();
    const rawInputs = pulumi.runtime.deserializeProperties(request.getObject()) as Record<string, unknown>;
    resources.push({
      type,
      name,
      urn: this.newUrn(parent, type, name),
      custom: request.getCustom(),
      parent: parent || undefined,
      provider: request.getProvider() || undefined,
      protect: Boolean(request.getProtect?.()),
      dependencies: request.getDependenciesList(),
      rawInputs,
      inputs: unwrap(rawInputs),
    });
    return originalRegister.call(this, request, callback);
  };

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) }),
      call: (args) => {
        calls.push({ token: args.token, inputs: args.inputs });
        return mockCall(args.token, args.inputs);
      },
    },
    "homecluster",
    STACK,
    options.preview ?? false,
  );

  const merged: ConfigValues = { ...projectDefaults(), ...stackConfig(), ...options.config };
  const secrets = options.secrets ?? { cloudflareApiToken: TEST_API_TOKEN };
  const all: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...merged, ...secrets })) {
    if (value !== undefined) all[`homecluster:${key}`] = toConfigString(value);
  }
  pulumi.runtime.setAllConfig(
    all,
    Object.keys(secrets).map((k) => `homecluster:${k}`),
  );

  vi.resetModules();
  const program = (await import("../index.js")) as Record<string, unknown>;
  const outputs: ProgramRun["outputs"] = {};
  for (const [key, value] of Object.entries(program)) {
    const output: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<unknown>);
    outputs[key] = {
      value: await new Promise((resolve) => output.apply((v) => resolve(v))),
      secret: await pulumi.isSecret(output),
    };
  }
  // Registrations finish asynchronously; waitForRPCs exists at run time but not in the typings.
  await (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs?.();

  const get = (type: string, name: string) => {
    const found = resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) {
      throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
    }
    return found[0]!;
  };
  return {
    resources,
    calls,
    outputs,
    get,
    all: (type) => resources.filter((r) => r.type === type),
    dependsOn: (resource, on) => resource.dependencies.includes(on.urn),
  };
}

/** Runs the program expecting it to fail; returns the error and what was registered before it. */
export async function runProgramError(options: RunOptions = {}): Promise<Error & { registered: RecordedResource[] }> {
  try {
    await runProgram(options);
  } catch (error) {
    return Object.assign(error as Error, { registered: [...lastRegistered] });
  }
  throw new Error("expected the program to fail, but it ran");
}
