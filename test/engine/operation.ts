/**
 * One Pulumi operation of the engine tier, in a process of its own (the module cache would not run index.ts twice):
 * the real Pulumi CLI runs the real program inline through the Automation API (no Node.js language host), in the
 * scratch project directory the tier prepared. Usage: node --import tsx test/engine/operation.ts <request.json>;
 * the result (test/engine/world.ts reads it) goes to the request's resultFile.
 */
import fs from "node:fs";
import {
  LocalWorkspace,
  PulumiCommand,
  type EngineEvent,
  type OpType,
  type StepEventMetadata,
} from "@pulumi/pulumi/automation";

export type Operation = "preview" | "up" | "refresh" | "destroy";

export interface OperationRequest {
  operation: Operation;
  stack: string;
  /** The scratch project directory: Pulumi.yaml and the stack file. */
  workDir: string;
  /** The directory holding bin/pulumi. */
  cliRoot: string;
  /** The environment the CLI and the plugins it starts run with. */
  env: Record<string, string>;
  /** The program's entry, imported inline. */
  program: string;
  resultFile: string;
}

/** One resource step the engine reported: what it does to which resource, and which properties differ. */
export interface Step {
  op: OpType;
  urn: string;
  type: string;
  /** The resource's name (the last segment of its URN). */
  name: string;
  diffs: string[];
  /** Properties whose change forces a replacement. */
  replaceKeys: string[];
}

export interface OperationResult {
  operation: Operation;
  ok: boolean;
  /** The engine's error, or the first diagnostic of a failed resource. */
  error?: string;
  /** Every resource step, in the order the engine reported them (planned steps for a preview). */
  steps: Step[];
  /** Each step as it ended (a refresh's diffs are known only then). */
  done: Step[];
  /** Counts by operation, from the engine's summary (`same` included). */
  changes: Record<string, number>;
  /** Error diagnostics (each with its resource's URN). */
  diagnostics: string[];
  outputs: Record<string, unknown>;
  stdout: string;
  seconds: number;
}

async function run(request: OperationRequest): Promise<OperationResult> {
  const steps: Step[] = [];
  const done: Step[] = [];
  const diagnostics: string[] = [];
  let changes: Record<string, number> = {};
  let stdout = "";
  const onEvent = (event: EngineEvent) => {
    const toStep = (step: StepEventMetadata): Step => ({
      op: step.op,
      urn: step.urn,
      type: step.type,
      name: step.urn.slice(step.urn.lastIndexOf("::") + 2),
      diffs: step.diffs ?? [],
      replaceKeys: step.keys ?? [],
    });
    if (event.resourcePreEvent) steps.push(toStep(event.resourcePreEvent.metadata));
    if (event.resOutputsEvent) done.push(toStep(event.resOutputsEvent.metadata));
    const diagnostic = event.diagnosticEvent;
    if (diagnostic && diagnostic.severity === "error")
      diagnostics.push(`${diagnostic.urn ?? ""}: ${diagnostic.message}`);
    if (event.summaryEvent) changes = event.summaryEvent.resourceChanges as Record<string, number>;
  };
  const onOutput = (text: string) => {
    stdout += text;
  };
  const started = Date.now();
  const pulumiCommand = await PulumiCommand.get({ root: request.cliRoot, skipVersionCheck: true });
  const stack = await LocalWorkspace.selectStack(
    {
      stackName: request.stack,
      projectName: "homecluster",
      program: async () => ({ ...(await import(request.program)) }),
    },
    { workDir: request.workDir, pulumiCommand, envVars: request.env },
  );
  const result = (ok: boolean, error?: string, outputs: Record<string, unknown> = {}): OperationResult => ({
    operation: request.operation,
    ok,
    ...(error === undefined ? {} : { error }),
    steps,
    done,
    changes,
    diagnostics,
    outputs,
    stdout,
    seconds: (Date.now() - started) / 1000,
  });
  try {
    switch (request.operation) {
      case "preview":
        await stack.preview({ diff: true, onEvent, onOutput });
        return result(true);
      case "up": {
        const up = await stack.up({ diff: true, onEvent, onOutput });
        return result(true, undefined, Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value])));
      }
      case "refresh":
        await stack.refresh({ onEvent, onOutput });
        return result(true);
      case "destroy":
        await stack.destroy({ onEvent, onOutput });
        return result(true);
    }
  } catch (error) {
    return result(false, (error as Error).message);
  }
}

const request = JSON.parse(fs.readFileSync(process.argv[2]!, "utf8")) as OperationRequest;
void run(request).then(
  (result) => {
    fs.writeFileSync(request.resultFile, JSON.stringify(result));
    // Failed operations exit 1 too (npm run bench times only successful ones); the tier reads the result either way.
    process.exit(result.ok ? 0 : 1);
  },
  (error: Error) => {
    fs.writeFileSync(
      request.resultFile,
      JSON.stringify({ operation: request.operation, ok: false, error: error.stack }),
    );
    process.exit(1);
  },
);
