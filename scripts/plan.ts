/**
 * `npm run plan [-- --stack NAME] [-- --out DIR]`: the offline plan. Runs index.ts with the stack's config
 * under Pulumi's mock runtime — no Pulumi CLI, no credentials, no cluster, no Cloudflare — and prints every
 * resource grouped by component, each Helm release's chart, version and values, the routes table and the
 * outputs. Secret values print as [secret]. With --out DIR it also writes the Helm values, the Kubernetes
 * objects and the Cloudflare resources as YAML files, for diffing in review.
 *
 * What it cannot show: anything the real providers compute (ids, the tunnel token) — those are mock values —
 * and what already exists in the cluster or the account. `pulumi preview` shows the real diff.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import {
  applyProjectConfig,
  loadProjectConfig,
  PulumiCliError,
  type ProgramConfig,
} from "../test/support/pulumi-cli-gate";
import { loadConfig, preconditions, type Preconditions } from "../config";
import {
  AUTHORIZATION_POLICY,
  GATEWAY,
  projectFile,
  readStackFile,
  redact,
  RELEASE,
  runUnderMocks,
  TUNNEL_CONFIG,
  VIRTUAL_SERVICE,
  type MockRun,
  type RecordedResource,
} from "./mock-runtime";

interface PlanArgs {
  stack: string;
  /** The stack file to read; default `Pulumi.<stack>.yaml` in the project. */
  stackFile: string | undefined;
  out: string | undefined;
}

const USAGE = "usage: npm run plan [-- --stack NAME] [--stack-file FILE] [--out DIR]";

function parseArgs(argv: string[]): PlanArgs | string {
  const args: PlanArgs = { stack: "homecluster", stackFile: undefined, out: undefined };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) return `${USAGE} ('${flag}' needs a value)`;
    if (flag === "--stack") args.stack = value;
    else if (flag === "--stack-file") args.stackFile = value;
    else if (flag === "--out") args.out = value;
    else return `${USAGE} (unknown option '${flag}')`;
  }
  return args;
}

/**
 * The config the CLI would pass, through the ported CLI gate. Secrets cannot be decrypted offline: each `secure:`
 * value, and each required secret the stack file does not hold yet (it is set per machine), becomes a placeholder.
 */
function planConfig(file: string, stack: string): { config: ProgramConfig; placeholders: string[] } {
  const project = projectFile();
  const stackFile = readStackFile(file);
  const config: Record<string, unknown> = { ...(stackFile.config ?? {}) };
  const declarations = loadProjectConfig(project);
  for (const [key, declaration] of Object.entries(declarations)) {
    const full = key.includes(":") ? key : `${project.name}:${key}`;
    const required = declaration.default === undefined && declaration.value === undefined;
    if (declaration.secret && required && !(full in config)) config[full] = { secure: "plan-placeholder" };
  }
  const placeholders: string[] = [];
  const placeholder = (_ciphertext: string, key: string) => {
    placeholders.push(key.replace(`${project.name}:`, ""));
    return `plan-placeholder-${key.replace(`${project.name}:`, "")}`;
  };
  return { config: applyProjectConfig(project, stack, { config }, placeholder), placeholders };
}

/** The short kind of a resource type: `kubernetes:helm.sh/v3:Release` → `Release`. */
function kindOf(type: string): string {
  return type.split(":").pop() ?? type;
}

function yamlBlock(value: unknown, indent: string): string {
  return stringify(redact(value), { lineWidth: 0 })
    .trimEnd()
    .split("\n")
    .map((line) => `${indent}${line}`)
    .join("\n");
}

function describe(resource: RecordedResource, byUrn: Map<string, RecordedResource>): string {
  const inputs = resource.rawInputs;
  const after = resource.dependencies
    .map((urn) => byUrn.get(urn))
    .filter((r): r is RecordedResource => r !== undefined && r.custom)
    .map((r) => r.name);
  const header =
    `  + ${kindOf(resource.type)} ${resource.name}` +
    (resource.protect ? "  [protected]" : "") +
    (after.length > 0 ? `  (after ${after.join(", ")})` : "");
  if (resource.type === RELEASE) {
    const r = resource.inputs;
    return [
      header,
      `      chart ${r.chart} ${r.version} from ${r.repositoryOpts?.repo} → release ${r.namespace}/${r.name}`,
      "      values:",
      yamlBlock(inputs.values ?? {}, "        "),
    ].join("\n");
  }
  // The kind is in the header already.
  const rest = Object.fromEntries(Object.entries(inputs).filter(([key]) => key !== "apiVersion" && key !== "kind"));
  return [header, yamlBlock(rest, "      ")].join("\n");
}

/** The top-level component a resource belongs to (its outermost non-stack ancestor), or undefined. */
function componentOf(resource: RecordedResource, byUrn: Map<string, RecordedResource>): RecordedResource | undefined {
  let current: RecordedResource | undefined = resource.custom ? byUrn.get(resource.parent ?? "") : resource;
  while (current?.parent && byUrn.get(current.parent)) current = byUrn.get(current.parent);
  return current && !current.custom ? current : undefined;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows.map((row) => `  ${row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")}`.trimEnd()).join("\n");
}

/** hostname → tunnel rule → gateway → service → policy, read back from what the program registered. */
function routesTable(run: MockRun): string {
  const all = (type: string) => run.resources.filter((r) => r.type === type).map((r) => r.inputs);
  const rules: { hostname?: string; service: string }[] = all(TUNNEL_CONFIG)[0]?.config?.ingresses ?? [];
  const gateways = all(GATEWAY);
  const virtualServices = all(VIRTUAL_SERVICE);
  const policies = all(AUTHORIZATION_POLICY);
  const rows = [["HOSTNAME", "TUNNEL RULE", "GATEWAY", "SERVICE", "POLICY"]];
  for (const rule of rules) {
    if (rule.hostname === undefined) {
      rows.push(["(anything else)", rule.service, "", "", ""]);
      continue;
    }
    const gateway = gateways.find((g) =>
      (g.spec?.servers ?? []).some((s: { hosts: string[] }) => s.hosts.includes(rule.hostname!)),
    );
    const virtualService = virtualServices.find((v) => (v.spec?.hosts ?? []).includes(rule.hostname));
    const destination = virtualService?.spec?.http?.[0]?.route?.[0]?.destination;
    const origin = /^[a-z+]+:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc[.:]/.exec(rule.service);
    const targetNamespace = destination ? String(destination.host).split(".")[1] : origin?.[2];
    // The allows in the target's namespace that name an identity; narrowed to the port when one matches
    // (a route's allow names the container port, which may differ from the Service port the route shows).
    const identityAllows = policies.filter(
      (p) => p.metadata?.namespace === targetNamespace && JSON.stringify(p.spec ?? {}).includes("principals"),
    );
    const port = String(destination?.port?.number ?? /:(\d+)$/.exec(rule.service)?.[1] ?? "");
    const onPort = identityAllows.filter((p) => JSON.stringify(p.spec).includes(`"${port}"`));
    const allows = (onPort.length > 0 ? onPort : identityAllows).map(
      (p) => `${p.metadata.namespace}/${p.metadata.name}`,
    );
    rows.push([
      rule.hostname,
      rule.service,
      gateway ? `${gateway.metadata.namespace}/${gateway.metadata.name}` : "—",
      destination ? `${destination.host}:${destination.port?.number}` : gateway ? "" : "(direct)",
      allows.join(", ") || "—",
    ]);
  }
  return table(rows);
}

/** What `pulumi up` needs to be true before it runs: the namespaces that must exist, then the rest. */
function preconditionLines(conditions: Preconditions): string[] {
  const width = Math.max(0, ...conditions.namespaces.map((ns) => ns.name.length));
  return [
    "Preconditions of pulumi up (the stack assumes these and creates none of them)",
    "  Namespaces that must exist:",
    ...(conditions.namespaces.length > 0
      ? conditions.namespaces.map((ns) => `    ${ns.name.padEnd(width)}  ${ns.neededBy.join(", ")}`)
      : ["    (none)"]),
    ...conditions.assumptions.map((line) => `  - ${line}`),
  ];
}

function render(run: MockRun, stack: string, placeholders: string[], conditions: Preconditions): string {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const lines = [
    `Offline plan of stack ${stack} (Pulumi mock runtime: nothing was contacted; ids and tokens are mock values)`,
    placeholders.length > 0 ? `Secrets not in the stack file are placeholders: ${placeholders.join(", ")}` : "",
    "",
    ...preconditionLines(conditions),
    "",
    `${run.resources.filter((r) => r.custom).length} resources`,
    "",
    "Providers",
  ];
  for (const provider of run.resources.filter((r) => r.type.startsWith("pulumi:providers:"))) {
    lines.push(describe(provider, byUrn));
  }
  const components = run.resources.filter((r) => !r.custom && r.parent === undefined);
  for (const component of components) {
    lines.push("", `${component.type}  ${component.name}`);
    for (const resource of run.resources.filter((r) => r.custom && componentOf(r, byUrn) === component)) {
      lines.push(describe(resource, byUrn));
    }
  }
  const loose = run.resources.filter(
    (r) => r.custom && !r.type.startsWith("pulumi:providers:") && componentOf(r, byUrn) === undefined,
  );
  if (loose.length > 0) lines.push("", "Outside any component", ...loose.map((r) => describe(r, byUrn)));
  lines.push("", "Routes", routesTable(run), "", "Outputs");
  for (const [key, output] of Object.entries(run.outputs)) {
    lines.push(`  ${key}:`, yamlBlock(output.secret ? "[secret]" : output.value, "    "));
  }
  return lines.filter((line, i) => line !== "" || lines[i - 1] !== "").join("\n") + "\n";
}

/** Writes the plan, the Helm values and every object as files under `dir`. */
function writeFiles(run: MockRun, dir: string, text: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  };
  write("plan.txt", text);
  for (const resource of run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))) {
    const inputs = redact(resource.rawInputs) as Record<string, unknown>;
    if (resource.type === RELEASE) {
      const r = resource.inputs;
      const header = `# ${r.name}: chart ${r.chart} ${r.version} from ${r.repositoryOpts?.repo}, namespace ${r.namespace}\n`;
      write(`helm/${r.name}.values.yaml`, header + stringify(inputs.values ?? {}, { lineWidth: 0 }));
    } else if (resource.type.startsWith("kubernetes:")) {
      const metadata = (inputs.metadata ?? {}) as { namespace?: string };
      write(
        `kubernetes/${metadata.namespace ?? "_cluster"}/${kindOf(resource.type)}-${resource.name}.yaml`,
        stringify(inputs, { lineWidth: 0 }),
      );
    } else {
      write(
        `${resource.type.split(":")[0]}/${kindOf(resource.type)}-${resource.name}.yaml`,
        stringify(inputs, { lineWidth: 0 }),
      );
    }
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === "string") {
    process.stderr.write(`${args}\n`);
    process.exit(2);
  }
  let run: MockRun;
  let placeholders: string[];
  try {
    const planned = planConfig(args.stackFile ?? `Pulumi.${args.stack}.yaml`, args.stack);
    placeholders = planned.placeholders;
    run = await runUnderMocks({
      stack: args.stack,
      config: planned.config,
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- ts-node runs this as CommonJS
      load: async () => require("../index") as Record<string, unknown>,
    });
  } catch (error) {
    // The CLI's own config errors, and the program's (RunErrors): one line each, as `pulumi preview` prints them.
    if (error instanceof PulumiCliError || error instanceof pulumi.RunError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // The program ran, so the config is valid; the runtime still holds it.
  const text = render(run, args.stack, placeholders, preconditions(loadConfig()));
  process.stdout.write(text);
  if (args.out) {
    writeFiles(run, args.out, text);
    process.stdout.write(`\nWrote the plan, Helm values and objects to ${args.out}/\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
