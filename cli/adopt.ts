/**
 * `npm run adopt`: before taking over a running cluster (an old Flux setup). Reads the cluster and the Cloudflare
 * account, finds the counterpart of each thing the stack declares (Helm releases by chart in the namespace the stack
 * installs them to, namespaces and objects by name, the tunnel by name, records by hostname, Access applications and
 * policies by name), and prints the `homecluster:adopt` config to paste with every difference the adopting
 * `pulumi up` applies. It changes nothing. See docs/migration.md.
 */
import { setMaxListeners } from "node:events";
import { DEFAULT_TIMEOUT_SECONDS } from "./check-command";
import type { DnsRecordInfo } from "./checks/cloudflare/dns";
import { configDriftResult, type RemoteConfigInfo } from "./checks/cloudflare/tunnel";
import { createContext, type CheckContext } from "./checks/context";
import { readLive } from "./checks/kubernetes/created";
import { installedReleases } from "./checks/kubernetes/releases";
import { redact } from "./checks/render";
import { collect, TOKEN_ENV } from "./clients/cloudflare";
import { runAsProgram, runCommand, type CommandDefinition, type Io } from "./command";

/** `homecluster:adopt` as the command prints it: only what was found. */
export interface AdoptConfig {
  releases?: Record<string, string>;
  namespaces?: string[];
  objects?: string[];
  tunnel?: string;
  dnsRecords?: Record<string, string>;
  accessApplications?: Record<string, string>;
  accessPolicies?: Record<string, string>;
}

export interface AdoptReport {
  adopt: AdoptConfig;
  /** What the adopting `up` changes, one line each. */
  changes: string[];
  /** What cannot be adopted in place, and what to do instead. */
  notes: string[];
}

/** Every leaf of a values object as a dotted path and its JSON. */
function leaves(values: unknown, at = ""): Map<string, string> {
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    return new Map(at ? [[at, JSON.stringify(values)]] : []);
  }
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(values)) {
    for (const [path, json] of leaves(value, at ? `${at}.${key}` : key)) out.set(path, json);
  }
  return out;
}

/** The values keys the stack sets, drops and changes relative to the values a release was installed with. */
export function valuesChanges(live: unknown, stack: unknown): string[] {
  const [had, want] = [leaves(live ?? {}), leaves(stack)];
  const removed = [...had.keys()].filter((k) => !want.has(k));
  const added = [...want.keys()].filter((k) => !had.has(k));
  const changed = [...want.keys()].filter((k) => had.has(k) && had.get(k) !== want.get(k));
  return [
    ...(removed.length > 0 ? [`values dropped: ${removed.join(", ")}`] : []),
    ...(added.length > 0 ? [`values set: ${added.join(", ")}`] : []),
    ...(changed.length > 0 ? [`values changed: ${changed.join(", ")}`] : []),
  ];
}

async function kubernetesSide(context: CheckContext, report: AdoptReport): Promise<void> {
  const { releases, objects } = context.facts.kubernetes;
  const installed = await installedReleases(context);
  for (const release of releases) {
    const candidates = installed.filter((i) => i.stored.chart?.metadata?.name === release.chart);
    const found = candidates.find((i) => i.namespace === release.namespace);
    for (const other of candidates.filter((i) => i.namespace !== release.namespace)) {
      report.notes.push(
        `${other.namespace}/${other.name} (chart ${release.chart}) is stored in ${other.namespace}, but the stack installs ${release.key} into ${release.namespace}: a Helm release cannot move namespace in place; reinstall it (docs/migration.md, fallback)`,
      );
    }
    if (!found) continue;
    (report.adopt.releases ??= {})[release.key] = `${found.namespace}/${found.name}`;
    const stored = found.stored;
    const version = stored.chart?.metadata?.version;
    report.changes.push(
      [
        `Helm release ${found.namespace}/${found.name}: upgraded in place`,
        ...(version !== release.version ? [`chart ${release.chart} ${version} → ${release.version}`] : []),
        ...valuesChanges(stored.config, release.values),
      ].join("; "),
    );
  }
  const live = await readLive(context, objects);
  objects.forEach((o, i) => {
    if (live[i] === undefined) return;
    if (o.kind === "Namespace") (report.adopt.namespaces ??= []).push(o.name);
    else (report.adopt.objects ??= []).push(`${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`);
  });
  if (report.adopt.namespaces || report.adopt.objects) {
    report.changes.push(
      `${[...(report.adopt.namespaces ?? []).map((n) => `Namespace ${n}`), ...(report.adopt.objects ?? [])].join(", ")}: the stack's fields applied, forced over other field managers'`,
    );
  }
}

async function cloudflareSide(context: CheckContext, report: AdoptReport): Promise<void> {
  const cf = await context.cloudflare();
  const { facts } = context;
  const { accountId, zoneId } = facts.cloudflare;
  const tunnels = await cf.request((sdk) =>
    collect(
      sdk.zeroTrust.tunnels.cloudflared.list({ account_id: accountId, name: facts.tunnel.name, is_deleted: false }),
    ),
  );
  const tunnel = tunnels.find((t) => t.name === facts.tunnel.name);
  if (tunnel?.id) {
    report.adopt.tunnel = `${accountId}/${tunnel.id}`;
    const remote = await cf.request(
      (sdk) =>
        sdk.zeroTrust.tunnels.cloudflared.configurations.get(tunnel.id!, {
          account_id: accountId,
        }) as Promise<RemoteConfigInfo>,
    );
    const drift = configDriftResult(remote, facts.tunnel.config);
    report.changes.push(
      `tunnel '${facts.tunnel.name}' (${tunnel.id}): ${drift.status === "ok" ? "its configuration is the stack's already" : `configuration ${drift.message.replace(/^drifted from the stack: /, "")}`}`,
    );
  }
  const target = tunnel?.id ? facts.tunnel.cnameTarget(tunnel.id) : "the new tunnel's <id>.cfargotunnel.com";
  for (const hostname of facts.tunnel.hostnames) {
    const records = (await cf.request((sdk) =>
      collect(sdk.dns.records.list({ zone_id: zoneId, name: { exact: hostname } })),
    )) as DnsRecordInfo[];
    const cname = records.find((r) => r.type === "CNAME");
    if (cname?.id) {
      (report.adopt.dnsRecords ??= {})[hostname] = `${zoneId}/${cname.id}`;
      const moves = [
        ...(cname.content !== target ? [`${cname.content} → ${target}`] : []),
        ...(cname.proxied ? [] : ["proxied"]),
        ...(cname.comment !== facts.tunnel.recordComment ? ["the stack's owner comment"] : []),
      ];
      if (moves.length > 0) report.changes.push(`DNS record ${hostname} CNAME: ${moves.join("; ")}`);
    }
    for (const other of records.filter((r) => r.type !== "CNAME")) {
      report.notes.push(
        `${hostname} has a ${other.type} record (${other.content}): a record's type cannot change in place; delete it right before pulumi up`,
      );
    }
  }
  if (facts.cloudflare.accessApplications.length > 0) {
    const apps = await cf.request((sdk) => collect(sdk.zeroTrust.access.applications.list({ account_id: accountId })));
    for (const hostname of facts.cloudflare.accessApplications) {
      const app = apps.find((a) => "domain" in a && a.domain === hostname);
      if (app?.id) (report.adopt.accessApplications ??= {})[hostname] = `accounts/${accountId}/${app.id}`;
    }
  }
  if (facts.cloudflare.accessPolicies.length > 0) {
    const policies = await cf.request((sdk) => collect(sdk.zeroTrust.access.policies.list({ account_id: accountId })));
    for (const name of facts.cloudflare.accessPolicies) {
      const policy = policies.find((p) => p.name === name);
      if (policy?.id) (report.adopt.accessPolicies ??= {})[name] = `${accountId}/${policy.id}`;
    }
  }
}

/** The report as YAML to paste under `config:` in the stack file. */
export function adoptYaml(project: string, adopt: AdoptConfig): string {
  const quote = (text: string) => (/^[\w./-]+$/.test(text) ? text : JSON.stringify(text));
  const lines = [`  ${project}:adopt:`];
  for (const [key, value] of Object.entries(adopt)) {
    if (typeof value === "string") lines.push(`    ${key}: ${quote(value)}`);
    else if (Array.isArray(value)) lines.push(`    ${key}:`, ...value.map((v: string) => `      - ${quote(v)}`));
    else lines.push(`    ${key}:`, ...Object.entries(value).map(([k, v]) => `      ${quote(k)}: ${quote(String(v))}`));
  }
  return lines.join("\n");
}

export const adopt: CommandDefinition<{ timeoutSeconds: number }> = {
  name: "adopt",
  purpose:
    "Prints the homecluster:adopt config that takes over the running cluster and account, and what the adopting pulumi up changes. Changes nothing.",
  flags: [
    { name: "timeout", value: "SECONDS", help: `the deadline of the reads (default: ${DEFAULT_TIMEOUT_SECONDS})` },
  ],
  notes: [
    "Kubernetes: the stack's kube context, from homecluster:kubeconfig, $KUBECONFIG or ~/.kube/config.",
    `Cloudflare: ${TOKEN_ENV} (export ${TOKEN_ENV}=$(pulumi config get cloudflareApiToken)); CLOUDFLARE_BASE_URL if set.`,
    "Exit code: 0 when it read everything, 1 otherwise (2: bad arguments).",
  ],
  options: (flags) => {
    const timeout = flags.values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(flags.values.timeout);
    return timeout > 0 ? { timeoutSeconds: timeout } : "--timeout takes a number of seconds above 0";
  },
  run: async (options, { env, io, loadStack }) => {
    const { facts } = await loadStack(env.KUBECONFIG);
    const deadline = AbortSignal.timeout(options.timeoutSeconds * 1000);
    setMaxListeners(Infinity, deadline);
    const context = createContext({ facts, env, deadline, timeoutSeconds: options.timeoutSeconds, fetch });
    const report: AdoptReport = { adopt: {}, changes: [], notes: [] };
    try {
      await kubernetesSide(context, report);
      await cloudflareSide(context, report);
    } catch (error) {
      io.stderr.write(`error: ${(error as Error).message}\n`);
      return 1;
    }
    const text = options.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : [
          `adopt: stack ${facts.stack}, kube context ${facts.kubernetes.context}, zone ${facts.domain}`,
          "",
          Object.keys(report.adopt).length === 0
            ? "Nothing of the stack's exists yet: nothing to adopt."
            : `Paste under config: in ${facts.stackFile}, then pulumi preview --diff:\n\n${adoptYaml(facts.project, report.adopt)}`,
          ...(report.changes.length > 0
            ? ["", "The adopting pulumi up changes:", ...report.changes.map((c) => `  - ${c}`)]
            : []),
          ...(report.notes.length > 0 ? ["", "Not adopted in place:", ...report.notes.map((n) => `  - ${n}`)] : []),
          "",
        ].join("\n");
    io.stdout.write(redact(text, [env[TOKEN_ENV]]));
    return 0;
  },
};

export function main(argv: readonly string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  return runCommand(adopt, argv, env, io);
}

if (require.main === module) runAsProgram(main);
