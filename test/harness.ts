/**
 * The test harness: runs the real program (index.ts) under Pulumi's mock runtime with the committed stack
 * config (plus per-test overrides) through scripts/mock-runtime.ts, and gives tests lookups over what it
 * registered. Invokes the mocks do not know fail the run.
 */
import { beforeAll, vi } from "vitest";
import {
  isSecretValue,
  runUnderMocks,
  stackConfig as stackFileConfig,
  projectDefaults,
  type ConfigValues,
  type MockRun,
  type RecordedResource,
} from "../scripts/mock-runtime";

export {
  AUTHORIZATION_POLICY,
  GATEWAY,
  isSecretValue,
  MOCK_MINTED_TOKEN,
  MOCK_TUNNEL_TOKEN,
  NAMESPACE,
  PROJECT_ROOT,
  projectDefaults,
  RELEASE,
  SECRET,
  TUNNEL_CONFIG,
  unwrap,
  VIRTUAL_SERVICE,
  type ConfigValues,
  type RecordedCall,
  type RecordedResource,
} from "../scripts/mock-runtime";

export const STACK = "homecluster";
/** The secret value tests give `homecluster:cloudflareApiToken`. */
export const TEST_API_TOKEN = "test-cloudflare-api-token";

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

/** The committed stack config (Pulumi.homecluster.yaml), keys without the project prefix. */
export function stackConfig(): ConfigValues {
  return stackFileConfig(`Pulumi.${STACK}.yaml`);
}

export interface RunOptions {
  /** Keys to set or replace (whole values) on top of the committed config; `undefined` unsets a key. */
  config?: ConfigValues;
  /** Secret keys and their values. Default: `{ cloudflareApiToken: TEST_API_TOKEN }`. */
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
}

/**
 * Runs index.ts once with the committed config plus `options`, and returns what it registered. Each call
 * re-imports the program (vi.resetModules), so one test file may run several configs.
 */
export async function runProgram(options: RunOptions = {}, recorded: RecordedResource[] = []): Promise<ProgramRun> {
  const secrets = options.secrets ?? { cloudflareApiToken: TEST_API_TOKEN };
  const run = await runUnderMocks({
    stack: STACK,
    config: { ...projectDefaults(), ...stackConfig(), ...options.config, ...secrets },
    secretKeys: Object.keys(secrets),
    preview: options.preview ?? false,
    recorded,
    load: async () => {
      vi.resetModules();
      return (await import("../index.js")) as Record<string, unknown>;
    },
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
  };
}

/**
 * Runs the program once, in a `beforeAll` of the enclosing `describe`, with the committed config plus `options`;
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
