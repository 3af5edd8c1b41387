#!/usr/bin/env node
// npm run bench: what a user waits for, timed; the tests assert no time. The machine is shared and its speed varies
// tenfold, so each figure is the median of several runs next to a baseline timed in the same runs (baseline and
// figure alternate, so both meet the same load), and each threshold is stated against that baseline.
//
// A section is a list of measurements { name, baseline, figure, threshold, runs }; baseline and figure are
// commands ({ label, argv, env?, code? }), threshold { text, limit(baselineSeconds) }. A section whose tools are
// absent returns a reason instead. Add a section by appending to SECTIONS.
//
//   npm run bench                       every section
//   npm run bench -- --only doctor      the measurements whose name contains "doctor"
//   npm run bench -- --runs 3           runs per measurement (default: each one's own)
//
// Run it as `node --import tsx` (package.json does): the healthy worlds are the CLI tests' fake APIs.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const FIXTURE = "test/support/Pulumi.homecluster.yaml";

/** Seconds `argv` takes; throws when it exits with another code than `code` (a figure of a failure is no figure). */
function time({ label, argv, env = {}, code = 0 }) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: root,
      env: { ...process.env, npm_config_update_notifier: "false", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (exit) => {
      const seconds = (performance.now() - started) / 1000;
      if (exit === code) resolve(seconds);
      else
        reject(
          new Error(`${label}: exit ${exit}, expected ${code}\n${stderr.trim().split("\n").slice(-5).join("\n")}`),
        );
    });
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const npmRun = (script, ...args) => ["npm", "run", "-s", script, ...(args.length ? ["--", ...args] : [])];
const node = (...args) => ({ label: `node ${args.join(" ")}`, argv: ["node", ...args] });
const ratio = (factor) => ({ text: `≤ ${factor} × baseline`, limit: (baseline) => factor * baseline });
const plus = (seconds, why) => ({
  text: `≤ baseline + ${seconds} s (${why})`,
  limit: (baseline) => baseline + seconds,
});

/** docs/troubleshooting.md's start-up: "fails the command in about N s, start-up included", less the default timeout. */
function documentedStartup() {
  const doc = fs.readFileSync(path.join(root, "docs/troubleshooting.md"), "utf8");
  const [, timeout, total] =
    /\(`--timeout`,\s+(\d+) s by default\), so an unreachable cluster or API fails the command in\s+about (\d+) s/.exec(
      doc,
    );
  return Number(total) - Number(timeout);
}

/** The CLI's commands: start-up, the offline plan, preflight and doctor on the CLI tests' fake APIs. */
async function commands() {
  const fixtures = await import("../test/cli/fixtures.ts");
  const fakeKube = await import("../test/cli/fake-kube.ts");
  const { startFakeCloudflare } = await import("../test/cli/fake-cloudflare.ts");
  const { loadStack } = await import("../cli/stack/load.ts");
  const { facts } = await loadStack({ stack: fixtures.STACK, stackFile: fixtures.STACK_FILE });
  const servers = [];
  const world = async (cluster, account) => {
    const kube = await fakeKube.startFakeKube(cluster);
    const cloudflare = await startFakeCloudflare(account);
    servers.push(kube, cloudflare);
    return {
      KUBECONFIG: fakeKube.writeKubeconfig(kube.url, fixtures.CONTEXT),
      CLOUDFLARE_API_TOKEN: fixtures.TOKEN,
      CLOUDFLARE_BASE_URL: cloudflare.url,
    };
  };
  const cliStack = ["--stack", fixtures.STACK, "--stack-file", fixtures.STACK_FILE];
  const beforeUp = await world(fixtures.clusterBeforeUp(), fixtures.accountBeforeUp());
  const afterUp = await world(await fixtures.healthyCluster(facts), fixtures.healthyAccount());
  const hang = await fakeKube.startFakeKube("hang");
  servers.push(hang);
  const missing = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-bench-")), "no-such-kubeconfig");
  const startup = documentedStartup();

  const nodeStart = node("-e", "0");
  const plan = { label: "npm run -s plan (the tests' stack)", argv: npmRun("plan", "--stack-file", FIXTURE) };
  const help = (command, flag, code = 0) => ({
    name: `npm run -s ${command} -- ${flag}`,
    baseline: nodeStart,
    figure: { label: `${command} ${flag}`, argv: npmRun(command, flag), code },
    // Nothing heavy loads before it is needed: npm's start-up and the argument parser, well under a second here.
    threshold: ratio(25),
    runs: 5,
  });
  const doctorStack = (env, code) => ({
    label: "doctor",
    argv: npmRun("doctor", "--stack-file", FIXTURE, "--json"),
    env: { CLOUDFLARE_API_TOKEN: "", ...env },
    code,
  });
  return {
    measurements: [
      help("preflight", "--help"),
      help("plan", "--help"),
      help("doctor", "--help"),
      help("doctor", "--bogus", 2),
      {
        name: "npm run -s plan",
        baseline: node("-e", "require('@pulumi/pulumi')"),
        figure: plan,
        // The SDKs load, the program runs under the mock runtime, the plan is rendered.
        threshold: ratio(4),
        runs: 5,
      },
      {
        name: "npm run -s preflight (a cluster and account before up)",
        baseline: plan,
        figure: { label: "preflight", argv: npmRun("preflight", ...cliStack), env: beforeUp },
        // The same offline run, then every check side by side.
        threshold: ratio(2),
        runs: 5,
      },
      {
        name: "npm run -s doctor (a healthy cluster and account)",
        baseline: plan,
        figure: { label: "doctor", argv: npmRun("doctor", ...cliStack), env: afterUp },
        threshold: ratio(2),
        runs: 5,
      },
      {
        name: "npm run -s doctor (a kubeconfig that does not exist)",
        baseline: plan,
        figure: doctorStack({ KUBECONFIG: missing }, 1),
        threshold: plus(startup, "docs/troubleshooting.md's start-up"),
        runs: 3,
      },
      {
        name: "npm run -s doctor -- --timeout 3 (an API server that never answers)",
        baseline: plan,
        figure: {
          ...doctorStack({ KUBECONFIG: fakeKube.writeKubeconfig(hang.url, "admin@homecluster") }, 1),
          argv: npmRun("doctor", "--stack-file", FIXTURE, "--timeout", "3", "--json"),
        },
        threshold: plus(3 + startup, "the --timeout plus docs/troubleshooting.md's start-up"),
        runs: 3,
      },
    ],
    close: () => Promise.all(servers.map((server) => server.close())),
  };
}

/** npm test: its four jobs side by side take about as long as the slowest alone. */
async function suite() {
  return {
    measurements: [
      {
        name: "npm test",
        baseline: { label: "vitest run", argv: [path.join(root, "node_modules/.bin/vitest"), "run"] },
        figure: { label: "npm test", argv: ["npm", "test", "--silent"] },
        threshold: ratio(1.5),
        runs: 3,
      },
    ],
  };
}

/**
 * The engine tier's figures (docs/engine.md): the real CLI's preview of the whole program against a one-Namespace
 * program's in the same world (goal: at most twice), the first up, and a preview with nothing to change. Measured only
 * when the tier's tools are built and its charts and CRDs given: building them takes most of an hour.
 */
async function engine() {
  const chartDir = process.env.HOMECLUSTER_CHART_DIR;
  const crdDir = process.env.HOMECLUSTER_ENGINE_CRDS;
  if (!chartDir || !crdDir)
    return { absent: "HOMECLUSTER_CHART_DIR and HOMECLUSTER_ENGINE_CRDS are not set (docs/engine.md)" };
  const tools =
    process.env.HOMECLUSTER_TOOLS ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "homecluster");
  const version = fs.readFileSync(path.join(root, ".pulumi-version"), "utf8").trim();
  const built = [`pulumi-${version}/bin/pulumi`, "apiserver/bin/kwok"].every((f) => fs.existsSync(path.join(tools, f)));
  const provider = fs.readdirSync(tools).some((d) => d.startsWith("pulumi-resource-kubernetes-"));
  if (!built || !provider)
    return { absent: `the engine tier's tools are not built in ${tools} (docs/engine.md, Run it)` };

  const { startWorld, operationRequest } = await import("../test/engine/world.ts");
  const { fixture, initStack, onSimulatedCluster } = await import("../test/engine/lifecycle.ts");
  const { kubeClient, startStandIns } = await import("../test/engine/stand-ins.ts");
  const world = await startWorld(chartDir);
  const stopStandIns = startStandIns(world.kubeconfig, crdDir, world.account, path.join(world.home, "stand-ins.log"));
  const kube = kubeClient(world.kubeconfig);
  for (const name of ["monitoring", "media", "infra"]) {
    await kube("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }
  const config = onSimulatedCluster(world, fixture("worked"));
  const stackDir = initStack(world, "bench-stack", config);
  // The same config (the CLI checks it against Pulumi.yaml), which the one-Namespace program does not read.
  const baselineDir = initStack(world, "bench-baseline", config);
  const oneNamespace = path.join(root, "test/engine/one-namespace.ts");
  const op = (label, dir, operation, program) => ({
    label,
    argv: [
      process.execPath,
      "--import",
      "tsx",
      "test/engine/operation.ts",
      operationRequest(world, dir, operation, program).requestFile,
    ],
    env: world.env,
  });
  return {
    measurements: [
      {
        name: "engine: pulumi preview of the whole program (nothing deployed)",
        baseline: op("preview of one Namespace", baselineDir, "preview", oneNamespace),
        figure: op("preview", stackDir, "preview"),
        threshold: ratio(2),
        runs: 3,
      },
      {
        name: "engine: the first pulumi up",
        baseline: op("first up of one Namespace", baselineDir, "up", oneNamespace),
        figure: op("up", stackDir, "up"),
        // Measured, with no goal of its own: Helm waits for every release's pods.
        threshold: { text: "reported", limit: () => Infinity },
        runs: 1,
      },
      {
        name: "engine: pulumi preview after up (nothing to change)",
        baseline: op("preview of one Namespace", baselineDir, "preview", oneNamespace),
        figure: op("preview", stackDir, "preview"),
        threshold: ratio(2),
        runs: 3,
      },
    ],
    close: async () => {
      await stopStandIns();
      await world.stop();
    },
  };
}

const SECTIONS = [
  { name: "commands", load: commands },
  { name: "test suite", load: suite },
  { name: "engine", load: engine },
];

function parseArgs(argv) {
  const options = { only: undefined, runs: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--only") options.only = argv[++i];
    else if (argv[i] === "--runs") options.runs = Number(argv[++i]);
    else throw new Error(`unknown option ${argv[i]} (--only TEXT, --runs N)`);
  }
  if (options.runs !== undefined && !(options.runs >= 1)) throw new Error("--runs takes a number of runs, 1 or more");
  return options;
}

const options = parseArgs(process.argv.slice(2));
const rows = [];
let over = 0;
const seconds = (s) => `${s.toFixed(2)} s`;
for (const section of SECTIONS) {
  const loaded = await section.load();
  if (loaded.absent) {
    rows.push([section.name, "", "", "", "", `not measured: ${loaded.absent}`]);
    continue;
  }
  const chosen = loaded.measurements.filter((m) => !options.only || m.name.includes(options.only));
  try {
    for (const m of chosen) {
      const runs = options.runs ?? m.runs;
      const base = [];
      const figure = [];
      for (let i = 0; i < runs; i++) {
        base.push(await time(m.baseline));
        figure.push(await time(m.figure));
      }
      const [b, f] = [median(base), median(figure)];
      const ok = f <= m.threshold.limit(b);
      if (!ok) over++;
      rows.push([
        m.name,
        seconds(f),
        `${m.baseline.label}: ${seconds(b)}`,
        m.threshold.text,
        `${runs} runs`,
        ok ? "ok" : "OVER",
      ]);
      process.stderr.write(`bench: ${m.name}: ${seconds(f)} (baseline ${seconds(b)})\n`);
    }
  } finally {
    await loaded.close?.();
  }
}

const header = ["measurement", "median", "baseline (median)", "threshold", "", ""];
const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => String(row[i]).length)));
for (const row of [header, ...rows]) {
  process.stdout.write(
    row
      .map((cell, i) => String(cell).padEnd(widths[i]))
      .join("  ")
      .trimEnd() + "\n",
  );
}
process.stdout.write(`\nbench: ${over === 0 ? "every figure within its threshold" : `${over} over its threshold`}\n`);
process.exit(over === 0 ? 0 : 1);
