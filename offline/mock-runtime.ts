/**
 * Runs the program under Pulumi's own mock runtime, without the CLI, credentials or a cluster, and records
 * what it registers: every resource with its inputs (secrets still marked), parent, provider, options
 * and dependencies, every read and invoke, and the stack outputs. Two modes:
 *
 * - `up` (the tests): providers answer with plausible mock values, so the program's outputs are known;
 * - `preview` (the offline plan, preflight and doctor): what a provider computes (ids, tokens, an Access
 *   application's `aud`, an invoke's result) is unknown, as in a `pulumi preview` before anything exists, and shows
 *   as `[computed]` in what is recorded. What remains is what the program itself decides.
 *
 * Invokes it does not know throw, so an unmocked provider call is an error, never a silent `{}`.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { COMPUTED } from "./computed";
import { unwrap } from "./values";
import type { ProgramConfig } from "./config-gate";

const PROJECT = "homecluster";
const RELEASE = "kubernetes:helm.sh/v3:Release";

/** What the mocked invoke returns as the tunnel token. */
export const MOCK_TUNNEL_TOKEN = "mock-tunnel-token-eyJhIjoiYiJ9";
/** What the mocked ApiToken resource returns as its value. */
export const MOCK_MINTED_TOKEN = "mock-minted-external-dns-token";
/** The team domain the mocked Zero Trust organisation lookup returns. */
export const MOCK_TEAM_DOMAIN = "homecluster.cloudflareaccess.com";
/** The `aud` tag the mocks give the Access application named `name` (64 hex characters, as Cloudflare's are). */
export function mockAud(name: string): string {
  return createHash("sha256").update(name).digest("hex");
}
/** The permission groups the mocked lookup returns, as Cloudflare names them. */
export const MOCK_PERMISSION_GROUPS = [
  { id: "4755a26eedb94da69e1066d98aa820be", name: "DNS Write", scopes: ["com.cloudflare.api.account.zone"] },
  { id: "c8fed203ed3043cba015a93ad1616f1f", name: "Zone Read", scopes: ["com.cloudflare.api.account.zone"] },
  { id: "e6d2666161e84845a636613608cee8d5", name: "Zone Write", scopes: ["com.cloudflare.api.account.zone"] },
  { id: "82e64a83756745bbbb1c9c2701bf816b", name: "DNS Read", scopes: ["com.cloudflare.api.account.zone"] },
];

/** Pulumi's wire form of an unknown value: a mock answer holding it leaves that value unknown. */
const UNKNOWN_WIRE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  custom: boolean;
  parent: string | undefined;
  provider: string | undefined;
  protect: boolean;
  /** Replaced by deleting it first (`deleteBeforeReplace`). */
  deleteBeforeReplace: boolean;
  /** Read from the provider (`Resource.get`), not created: `id` names what is read. */
  read?: { id: string };
  /** The `import` option: the id of an existing resource the engine takes over instead of creating one. */
  importId?: string;
  /** The `ignoreChanges` option: input paths whose changes the engine does not apply. */
  ignoreChanges: string[];
  /** URNs this resource depends on (explicit `dependsOn` and the resources its input Outputs came from). */
  dependencies: string[];
  /** Inputs as sent, secrets still wrapped: use `unwrap` to read values and `isSecretAt` to check them. */
  rawInputs: Record<string, unknown>;
  /** Inputs with secrets unwrapped: each resource type's own shape, which its readers know. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- typed by the reader, per resource type
  inputs: Record<string, any>;
}

export interface RecordedCall {
  token: string;
  inputs: Record<string, unknown>;
  /** The provider reference (`<urn>::<id>`) the invoke went through; undefined for the default provider. */
  provider: string | undefined;
}

export interface MockRun {
  resources: RecordedResource[];
  calls: RecordedCall[];
  outputs: Record<string, { value: unknown; secret: boolean }>;
}

/** Recorded inputs with every unknown value (a preview's) written as COMPUTED. */
function marked(value: unknown): unknown {
  if (pulumi.isUnknown(value)) return COMPUTED;
  if (Array.isArray(value)) return value.map(marked);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, marked(v)]));
  }
  return value;
}

/** Mock state a provider would compute for the resources whose outputs the program reads. */
function mockState(
  args: pulumi.runtime.MockResourceArgs,
  computedUnknown: boolean,
  imported = false,
): Record<string, unknown> {
  const { type, name, inputs } = args;
  // A read (`Namespace.get`): the object exists, under the name it was asked for. An import (whose id the mocks
  // receive the same way) is answered as a create: the engine updates it to the inputs.
  if (!imported && args.id !== undefined && args.id !== "" && type.startsWith("kubernetes:")) {
    return { metadata: { name: args.id } };
  }
  // Left out, a value the provider computes stays unknown.
  if (computedUnknown) return inputs;
  switch (type) {
    case "random:index/randomBytes:RandomBytes":
      return { ...inputs, base64: Buffer.from(`random-${name}`).toString("base64"), hex: "72616e646f6d" };
    case "cloudflare:index/apiToken:ApiToken":
      return { ...inputs, value: MOCK_MINTED_TOKEN };
    case "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication":
      return { ...inputs, aud: mockAud(name) };
    case RELEASE:
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

/** Invokes the program may make, with plausible provider answers (or unknown ones). Anything else throws. */
function mockCall(token: string, inputs: Record<string, unknown>, computedUnknown = false): Record<string, unknown> {
  const answer = knownCall(token, inputs);
  return computedUnknown
    ? Object.fromEntries(Object.keys(answer).map((key) => [key, key in inputs ? answer[key] : UNKNOWN_WIRE]))
    : answer;
}

function knownCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken":
      return { ...inputs, token: MOCK_TUNNEL_TOKEN };
    case "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList": {
      const wanted = typeof inputs.name === "string" ? decodeURIComponent(inputs.name) : undefined;
      return { ...inputs, results: MOCK_PERMISSION_GROUPS.filter((g) => wanted === undefined || g.name === wanted) };
    }
    case "cloudflare:index/getZeroTrustOrganization:getZeroTrustOrganization":
      return { ...inputs, authDomain: MOCK_TEAM_DOMAIN, name: "homecluster" };
    default:
      throw new Error(`unmocked invoke ${token}(${JSON.stringify(inputs)})`);
  }
}

/**
 * Pulumi's mocks for tests that construct a component directly, outside a program run: every registered resource is
 * pushed to `registered`, and an invoke without a mock fails as in a program run.
 */
export async function setBareMocks(stack: string, registered: pulumi.runtime.MockResourceArgs[] = []): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push(args);
        return { id: `${args.name}-id`, state: mockState(args, false) };
      },
      call: (args) => mockCall(args.token, args.inputs),
    },
    PROJECT,
    stack,
    false,
  );
}

export interface MockRunOptions {
  /** The Pulumi project. Default: homecluster. */
  project?: string;
  stack: string;
  /** The outputs of the stacks the program reads through StackReference, by stack name. */
  stackReferences?: Record<string, Record<string, unknown>>;
  /** What the CLI hands the program (offline/config-gate.ts): full keys, string values, secret keys. */
  config: ProgramConfig;
  /** Run as `pulumi preview` before anything exists (what providers compute is unknown) instead of `pulumi up`. */
  preview?: boolean;
  /** Imports the program; called after the mocks and config are in place. */
  load: () => Promise<Record<string, unknown>>;
  /** Receives every registration as it happens, so a caller still sees them when the program throws. */
  recorded?: RecordedResource[];
}

/** The parts of the monitor's gRPC requests (register and read) that are recorded. */
interface ResourceRequest {
  getParent(): string;
  getType(): string;
  getName(): string;
  getProvider(): string;
  getDependenciesList(): string[];
  getObject(): Parameters<typeof pulumi.runtime.deserializeProperties>[0];
  getProperties(): Parameters<typeof pulumi.runtime.deserializeProperties>[0];
  getCustom(): boolean;
  getProtect?(): boolean;
  getDeletebeforereplace?(): boolean;
  getImportid?(): string;
  getIgnorechangesList?(): string[];
  getId(): string;
}

/** `newUrn` is private in the SDK's type, public at run time. */
interface MonitorThis {
  newUrn(parent: string, type: string, name: string): string;
}

type MonitorMethod = (this: MonitorThis, request: ResourceRequest, callback: unknown) => Promise<unknown>;

/** MockMonitor with the two methods wrapped, the originals kept so a second run wraps them once. */
interface PatchedMonitor {
  registerResource: MonitorMethod;
  readResource: MonitorMethod;
  __homeclusterOriginal?: MonitorMethod;
  __homeclusterOriginalRead?: MonitorMethod;
}

/** Runs the program once under the mock runtime and returns what it registered and exported. */
export async function runUnderMocks(options: MockRunOptions): Promise<MockRun> {
  const resources = options.recorded ?? [];
  const preview = options.preview ?? false;
  const calls: RecordedCall[] = [];
  // The mock monitor hands `newResource` only type, name and inputs; parent, provider, options and
  // dependencies live on the registration request, so record from there.

  const monitor = MockMonitor.prototype as unknown as PatchedMonitor;
  const register = monitor.__homeclusterOriginal ?? monitor.registerResource;
  monitor.__homeclusterOriginal = register;

  const duplicates: string[] = [];
  /** `<type>::<name>` of each resource registered with `import`, which the mocks answer as a create. */
  const imported = new Set<string>();
  /** Records one registration or read; a second resource of one URN fails the run, as the engine refuses it. */
  const record = (
    monitorThis: MonitorThis,
    request: ResourceRequest,
    properties: Parameters<typeof pulumi.runtime.deserializeProperties>[0],
    how: Pick<RecordedResource, "custom" | "protect" | "deleteBeforeReplace" | "read" | "importId" | "ignoreChanges">,
  ) => {
    const parent = request.getParent();
    const type = request.getType();
    const name = request.getName();
    const urn = monitorThis.newUrn(parent, type, name);
    if (resources.some((r) => r.urn === urn)) duplicates.push(urn);
    const rawInputs = marked(pulumi.runtime.deserializeProperties(properties)) as Record<string, unknown>;
    resources.push({
      type,
      name,
      urn,
      parent: parent || undefined,
      provider: request.getProvider() || undefined,
      ...how,
      dependencies: request.getDependenciesList(),
      rawInputs,
      inputs: unwrap(rawInputs),
    });
  };
  monitor.registerResource = async function (this: MonitorThis, request: ResourceRequest, callback: unknown) {
    const importId = request.getImportid?.() || undefined;
    if (importId) imported.add(`${request.getType()}::${request.getName()}`);
    record(this, request, request.getObject(), {
      custom: request.getCustom(),
      protect: Boolean(request.getProtect?.()),
      deleteBeforeReplace: Boolean(request.getDeletebeforereplace?.()),
      ...(importId ? { importId } : {}),
      ignoreChanges: request.getIgnorechangesList?.() ?? [],
    });
    return register.call(this, request, callback);
  };
  const read = monitor.__homeclusterOriginalRead ?? monitor.readResource;
  monitor.__homeclusterOriginalRead = read;
  monitor.readResource = async function (this: MonitorThis, request: ResourceRequest, callback: unknown) {
    record(this, request, request.getProperties(), {
      custom: true,
      protect: false,
      deleteBeforeReplace: false,
      read: { id: request.getId() },
      ignoreChanges: [],
    });
    return read.call(this, request, callback);
  };

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.type !== "pulumi:pulumi:StackReference") {
          const id = args.id || (preview ? undefined : `${args.name}-id`);
          return { id, state: mockState(args, preview, imported.has(`${args.type}::${args.name}`)) };
        }
        const outputs = options.stackReferences?.[args.name];
        if (!outputs) throw new Error(`no outputs mocked for the stack reference ${args.name}`);
        return { id: args.name, state: { name: args.name, outputs, secretOutputNames: [] } };
      },
      call: (args) => {
        calls.push({ token: args.token, inputs: args.inputs, provider: args.provider || undefined });
        return mockCall(args.token, args.inputs, preview);
      },
    },
    options.project ?? PROJECT,
    options.stack,
    preview,
  );
  pulumi.runtime.setAllConfig(options.config.config, options.config.secretKeys);

  // Pulumi's SDK takes a stack trace for every promise it makes (for its leak report, which mocks never print), and
  // under source maps (vitest, tsx) each costs a source-mapped walk: most of a run's time. The run takes none; an
  // error from the program keeps its message. HOMECLUSTER_STACK_TRACES=1 keeps them, for debugging the program.
  const stackTraceLimit = Error.stackTraceLimit;
  if (!process.env["HOMECLUSTER_STACK_TRACES"]) Error.stackTraceLimit = 0;
  try {
    const program = await options.load();
    const outputs: MockRun["outputs"] = {};
    for (const [key, value] of Object.entries(program)) {
      const output = pulumi.output(value as pulumi.Input<unknown>) as pulumi.Output<unknown> & {
        /** Internal to the SDK: the value, with what is unknown as `pulumi.unknown`. */
        promise(withUnknowns: boolean): Promise<unknown>;
      };
      outputs[key] = { value: marked(await output.promise(true)), secret: await pulumi.isSecret(output) };
    }
    // Registrations finish asynchronously; waitForRPCs exists at run time but not in the typings.
    await (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs?.();
    if (duplicates.length > 0) {
      throw new Error(duplicates.map((urn) => `Duplicate resource URN '${urn}'`).join("; "));
    }
    return { resources, calls, outputs };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
