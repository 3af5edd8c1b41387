/**
 * The test harness: runs the real program (index.ts) under Pulumi's mock runtime from what the Pulumi CLI would hand
 * it — Pulumi.yaml and a stack file (the tests' own, support/Pulumi.homecluster.yaml, by default) through the ported
 * config gate, with secrets set as `pulumi config set --secret` sets them — and gives tests lookups over what it
 * registered.
 */
import * as path from "node:path";
import { beforeAll, vi } from "vitest";
import { applyProjectConfig, PulumiCliError, type ProgramConfig, type StackFile } from "../../offline/config-gate";
import { readProjectFile, readStackFile } from "../../offline/stack-files";
import { runUnderMocks, type MockRun, type RecordedResource } from "../../offline/mock-runtime";
import { isSecretValue } from "../../offline/values";

export const STACK = "homecluster";
const PROJECT = "homecluster";
/** The secret value tests give `homecluster:cloudflareApiToken`. */
export const TEST_API_TOKEN = "test-cloudflare-api-token";

/** Type tokens of the resources tests look up. */
export const TYPES = {
  release: "kubernetes:helm.sh/v3:Release",
  namespace: "kubernetes:core/v1:Namespace",
  namespacePatch: "kubernetes:core/v1:NamespacePatch",
  secret: "kubernetes:core/v1:Secret",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  deployment: "kubernetes:apps/v1:Deployment",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  gateway: "kubernetes:networking.istio.io/v1:Gateway",
  virtualService: "kubernetes:networking.istio.io/v1:VirtualService",
  serviceEntry: "kubernetes:networking.istio.io/v1:ServiceEntry",
  authorizationPolicy: "kubernetes:security.istio.io/v1:AuthorizationPolicy",
  peerAuthentication: "kubernetes:security.istio.io/v1:PeerAuthentication",
  lbPool: "kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool",
  l2Policy: "kubernetes:cilium.io/v2alpha1:CiliumL2AnnouncementPolicy",
  clusterwidePolicy: "kubernetes:cilium.io/v2:CiliumClusterwideNetworkPolicy",
  tunnel: "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
  tunnelConfig: "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
  dnsRecord: "cloudflare:index/dnsRecord:DnsRecord",
  apiToken: "cloudflare:index/apiToken:ApiToken",
  randomBytes: "random:index/randomBytes:RandomBytes",
} as const;

/** Keys of a stack file's config, without the project prefix. */
export type ConfigValues = Record<string, unknown>;

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

/** Every place a plain (non-secret) string containing `needle` occurs, as dotted paths. */
export function plainOccurrences(raw: unknown, needle: string, at = ""): string[] {
  if (isSecretValue(raw)) return [];
  if (typeof raw === "string") return raw.includes(needle) ? [at] : [];
  if (raw && typeof raw === "object") {
    return Object.entries(raw).flatMap(([k, v]) => plainOccurrences(v, needle, at ? `${at}.${k}` : k));
  }
  return [];
}

/**
 * The tests' stack file. The project's Pulumi.homecluster.yaml is the user's: what they put there must not fail the
 * tests (their deploy runs them), so no test reads its values.
 */
export const FIXTURE = path.join(__dirname, `Pulumi.${STACK}.yaml`);

/** The tests' stack file's config, keys without the project prefix. */
export function fixtureConfig(): ConfigValues {
  return Object.fromEntries(
    Object.entries(readStackFile(FIXTURE).config ?? {}).map(([k, v]) => [k.replace(`${PROJECT}:`, ""), v]),
  );
}

/**
 * The tests' stand-in for the secrets provider: `pulumi config set --secret` stores ciphertext in the stack file, and
 * only the provider turns it back into the value.
 */
const CIPHER_PREFIX = "v1:test:";
export function encrypt(plaintext: string): { secure: string } {
  return { secure: CIPHER_PREFIX + Buffer.from(plaintext).toString("base64") };
}
export function decrypt(ciphertext: string, key: string): string {
  if (!ciphertext.startsWith(CIPHER_PREFIX)) {
    throw new PulumiCliError(`failed to decrypt configuration key '${key}': invalid ciphertext`);
  }
  return Buffer.from(ciphertext.slice(CIPHER_PREFIX.length), "base64").toString();
}

/**
 * A stack file as a user's edits leave it: `base` with `config` keys set or replaced (`undefined` removes one), and
 * `secrets` set as `pulumi config set --secret` sets them (encrypted).
 */
export function editStackFile(
  base: StackFile,
  config: ConfigValues = {},
  secrets: Record<string, string> = {},
): StackFile {
  const out: Record<string, unknown> = { ...(base.config ?? {}) };
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) delete out[`${PROJECT}:${key}`];
    else out[`${PROJECT}:${key}`] = value;
  }
  for (const [key, value] of Object.entries(secrets)) out[`${PROJECT}:${key}`] = encrypt(value);
  return { config: out };
}

/** What `pulumi preview` hands the program for this stack file, through the ported CLI gate (throws its error). */
export function cliConfig(stackFile: StackFile, stack = STACK): ProgramConfig {
  return applyProjectConfig(readProjectFile(), stack, stackFile, decrypt);
}

export interface RunOptions {
  /** The stack file to start from. Default: the tests' own (FIXTURE). */
  stackFile?: StackFile;
  /** Keys to set or replace (whole values) in that stack file; `undefined` removes a key. */
  config?: ConfigValues;
  /**
   * Secrets set with `pulumi config set --secret`. Default: `{ cloudflareApiToken: TEST_API_TOKEN }`, the one the
   * README's deploy steps set.
   */
  secrets?: Record<string, string>;
  /** Run as `pulumi preview` (unknown outputs) instead of `pulumi up`. */
  preview?: boolean;
}

export interface ProgramRun extends MockRun {
  /** The one resource of this type and name; throws if there is not exactly one. */
  get(type: string, name: string): RecordedResource;
  all(type: string): RecordedResource[];
  /** `resource` depends (directly) on `on`. */
  dependsOn(resource: RecordedResource, on: RecordedResource): boolean;
  /** Everything `resource` waits for, directly or through what it waits for. */
  waitsFor(resource: RecordedResource): RecordedResource[];
  /** The stack outputs' values. */
  output(key: string): unknown;
}

/** Imports index.ts afresh (vi.resetModules), so that it runs again under the mocks set up now. */
export async function loadProgram(): Promise<Record<string, unknown>> {
  vi.resetModules();
  return (await import("../../index.js")) as Record<string, unknown>;
}

/**
 * Runs index.ts once with the test stack file plus `options`, and returns what it registered. Each call
 * re-imports the program (vi.resetModules), so one test file may run several configs.
 */
export async function runProgram(options: RunOptions = {}, recorded: RecordedResource[] = []): Promise<ProgramRun> {
  const stackFile = editStackFile(
    options.stackFile ?? readStackFile(FIXTURE),
    options.config,
    options.secrets ?? { cloudflareApiToken: TEST_API_TOKEN },
  );
  const run = await runUnderMocks({
    stack: STACK,
    config: cliConfig(stackFile),
    preview: options.preview ?? false,
    recorded,
    load: loadProgram,
  });
  const get = (type: string, name: string) => {
    const found = run.resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
    return found[0]!;
  };
  return {
    ...run,
    get,
    all: (type) => run.resources.filter((r) => r.type === type),
    dependsOn: (resource, on) => resource.dependencies.includes(on.urn),
    waitsFor: (resource) => {
      const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
      const seen = new Set<string>();
      const visit = (urn: string) => {
        if (seen.has(urn)) return;
        seen.add(urn);
        byUrn.get(urn)?.dependencies.forEach(visit);
      };
      resource.dependencies.forEach(visit);
      return [...seen].flatMap((urn) => byUrn.get(urn) ?? []);
    },
    output: (key) => run.outputs[key]?.value,
  };
}

/**
 * Runs the program once, in a `beforeAll` of the enclosing `describe`, with the test stack's config plus `options`;
 * the tests read that run through the returned function.
 */
export function sharedRun(options: RunOptions = {}): () => ProgramRun {
  let run: ProgramRun | undefined;
  beforeAll(async () => {
    run = await runProgram(options);
  });
  return () => {
    if (!run) throw new Error("the shared run is only there inside the tests of its describe");
    return run;
  };
}

/** Runs the program expecting it to fail; returns the error and what was registered before it. */
export async function runProgramError(options: RunOptions = {}): Promise<Error & { registered: RecordedResource[] }> {
  const registered: RecordedResource[] = [];
  try {
    await runProgram(options, registered);
  } catch (error) {
    return Object.assign(error as Error, { registered });
  }
  throw new Error("expected the program to fail, but it ran");
}
