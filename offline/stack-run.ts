/**
 * A stack run offline: Pulumi.yaml and the stack file through the ported CLI gate, then the real program under the
 * mock runtime as a `pulumi preview` before anything exists. What it registers is the resource graph that the plan,
 * preflight, doctor and the conformance tier read (offline/graph.ts). Secrets cannot be decrypted offline: each
 * `secure:` value, and each required secret the stack file does not hold yet, becomes a placeholder.
 */
import { loadConfig } from "../config/load";
import type { HomeclusterConfig } from "../config/schema";
import {
  applyProjectConfig,
  loadProjectConfig,
  missingConfigKeys,
  qualified,
  type ProgramConfig,
  type StackFile,
} from "./config-gate";
import { runUnderMocks, type MockRun } from "./mock-runtime";
import { readProjectFile, readStackFile, stackFilePath } from "./stack-files";

export interface OfflineStack {
  project: string;
  stack: string;
  /** The stack file read. */
  stackFile: string;
  /** Its contents, as the CLI reads them. */
  file: StackFile;
  /** What the program registered, read and exported. */
  run: MockRun;
  /** The validated config the program ran with. */
  config: HomeclusterConfig;
  /** The keys the CLI hands over as secrets (encrypted in the stack file). */
  secretKeys: string[];
  /** The secrets the run had no value for: each ran with a placeholder. */
  placeholders: string[];
}

/** The config the CLI would hand the program, each secret a placeholder. */
function offlineConfig(project: ReturnType<typeof readProjectFile>, file: StackFile, stack: string) {
  const config: Record<string, unknown> = { ...(file.config ?? {}) };
  const declarations = loadProjectConfig(project);
  for (const key of missingConfigKeys(project, file)) {
    if (declarations[key]?.secret) config[qualified(project, key)] = { secure: "offline-placeholder" };
  }
  const placeholders: string[] = [];
  const placeholder = (_ciphertext: string, key: string) => {
    const name = key.replace(`${project.name}:`, "");
    placeholders.push(name);
    return `offline-placeholder-${name}`;
  };
  const handed: ProgramConfig = applyProjectConfig(project, stack, { config }, placeholder);
  return { handed, placeholders };
}

export interface OfflineOptions {
  stack: string;
  /** Default: Pulumi.<stack>.yaml in the project. */
  stackFile?: string;
  /** Imports the program (tests load it through their own module loader). */
  load: () => Promise<Record<string, unknown>>;
}

/**
 * Runs the stack offline. Throws the CLI gate's PulumiCliError, the config's ConfigError (a RunError) or a
 * StackFileError, each one line naming the file or the key.
 */
export async function runStackOffline(options: OfflineOptions): Promise<OfflineStack> {
  const project = readProjectFile();
  const stackFile = options.stackFile ?? stackFilePath(options.stack);
  const file = readStackFile(stackFile);
  const { handed, placeholders } = offlineConfig(project, file, options.stack);
  const run = await runUnderMocks({ stack: options.stack, config: handed, preview: true, load: options.load });
  // The program ran, so the config is valid; the runtime still holds it.
  const { config } = loadConfig();
  return {
    project: project.name,
    stack: options.stack,
    stackFile,
    file,
    run,
    config,
    secretKeys: handed.secretKeys,
    placeholders,
  };
}
