/**
 * Some workloads say what goes wrong only in their log: the last lines of each pod are scanned for the errors that
 * matter here, quoting the line. external-dns: a rejected token, Cloudflare's rate limit, a record owned by someone
 * else. istiod: Access's signing keys it could not fetch (every protected host then answers 401).
 */
import type { WorkloadRef } from "../../stack/facts";
import { CheckError } from "../../clients/error";
import { fail, ok, skip, warn, type Check, type Result, type Status } from "../check";
import type { CheckContext } from "../context";
import { KUBE_API } from "./cluster";
import { logsCommand, readWorkloadPods } from "./workloads";

/** How many lines of each pod's log are read, unless the check says otherwise. */
const TAIL_LINES = 100;

export interface LogProblem {
  kind: string;
  pattern: RegExp;
  status: Exclude<Status, "ok">;
  fix: string;
}

/** external-dns' problems, in order of precedence: a line counts as the first problem it matches. */
export const EXTERNAL_DNS_PROBLEMS: LogProblem[] = [
  {
    kind: "Cloudflare rejects its token",
    pattern: /Authentication error|Invalid API Token|Unauthorized|Invalid request headers|\b(9109|10000|6003)\b/i,
    status: "fail",
    fix: "its token is invalid or lacks Zone Read and DNS Write on the zone: pulumi up mints a new one, or set a valid homecluster:externalDnsApiToken",
  },
  {
    kind: "Cloudflare rate-limits it",
    pattern: /rate.?limit|Too Many Requests|\b429\b/i,
    status: "warn",
    fix: "raise homecluster:externalDns.interval (Cloudflare allows 1200 requests per 5 minutes)",
  },
  {
    kind: "a record it wants is owned by someone else",
    pattern: /already exists|owner id does not match|not owned by|\b81053\b/i,
    status: "warn",
    fix: "another owner (a tunnel CNAME, another external-dns) holds that name: remove the hostname from the object or the record",
  },
  {
    kind: "it logs an error",
    pattern: /level=(error|fatal)/i,
    status: "fail",
    fix: "read the whole log for the cause",
  },
];

/**
 * istiod's, from pilot/pkg/model/jwks_resolver.go (Istio 1.30): a failed fetch of a RequestAuthentication's JWKS URI,
 * after which istiod hands the gateway a key set that matches no token.
 */
export const JWKS_PROBLEMS: LogProblem[] = [
  {
    kind: "istiod cannot fetch Access's signing keys, so every protected host answers 401",
    pattern:
      /Failed to fetch public key from jwks URI|JWKS fetch failed for issuer|Failed to refresh JWT public key|Failed to GET from "https:\/\/[^"]*\/cdn-cgi\/access\/certs"/,
    status: "fail",
    fix: "let istio-system reach https://<team>.cloudflareaccess.com/cdn-cgi/access/certs (egress, DNS, a proxy); istiod retries by itself (docs/access.md)",
  },
];

/** Debug lines name problems the workload handles itself. */
const DEBUG = /level=debug|\tdebug\t/i;

export function logResult(
  logs: readonly { pod: string; text: string }[],
  ref: WorkloadRef,
  problems: readonly LogProblem[] = EXTERNAL_DNS_PROBLEMS,
  tailLines = TAIL_LINES,
): Result {
  if (logs.length === 0) return fail(`no ${ref.name} pod has a log to read`, `see the ${ref.name} workload check`);
  const found = logs.flatMap(({ pod, text }) =>
    text
      .split("\n")
      .filter((line) => line.trim() !== "" && !DEBUG.test(line))
      .flatMap((line) => {
        const problem = problems.find((p) => p.pattern.test(line));
        return problem ? [{ pod, line: line.trim(), problem }] : [];
      }),
  );
  if (found.length === 0)
    return ok(
      `no ${problems.length === 1 ? "such line" : "errors"} in the last ${tailLines} lines of ${logs.map((l) => l.pod).join(", ")}`,
    );
  // The most severe kind; of its lines, the latest.
  const worst = problems.find((p) => found.some((f) => f.problem === p))!;
  const latest = found.filter((f) => f.problem === worst).at(-1)!;
  const quoted = latest.line.length > 200 ? `${latest.line.slice(0, 200)}…` : latest.line;
  const more = found.length > 1 ? ` (${found.length} problem lines in all)` : "";
  const text = `${worst.kind}: ${latest.pod}: "${quoted}"${more}`;
  const fix = `${worst.fix} (${logsCommand(ref)})`;
  return worst.status === "fail" ? fail(text, fix) : warn(text, fix);
}

export function logCheck(
  ref: WorkloadRef,
  options: { id: string; component: string; name: string; problems: readonly LogProblem[]; tailLines?: number },
): Check<CheckContext> {
  return {
    id: options.id,
    component: options.component,
    name: options.name,
    needs: [KUBE_API],
    run: async (context) => {
      const kube = await context.kube();
      const { pods } = await readWorkloadPods(context, ref);
      const logs = await Promise.all(
        pods.map(async (pod) => {
          const name = pod.metadata?.name ?? "";
          // The first container is the workload's own; naming it keeps an added sidecar from making the read ambiguous.
          const container = pod.spec?.containers?.[0]?.name;
          try {
            const text = await kube.request((api) =>
              api.core.readNamespacedPodLog({
                name,
                namespace: ref.namespace,
                tailLines: options.tailLines ?? TAIL_LINES,
                ...(container ? { container } : {}),
              }),
            );
            return [{ pod: name, text }];
          } catch (error) {
            // A container that has not started has no log yet (400); the Deployment check reports it.
            if (error instanceof CheckError && error.status === 400) return [];
            // The API server fetches a log from the node's kubelet: a kubelet it cannot reach (a firewall, a node
            // that serves no logs) leaves the question unanswered here, not failed.
            if (error instanceof CheckError && error.status === 500 && /containerLogs/.test(error.message)) {
              return [{ pod: name, unreachable: error.message }];
            }
            throw error;
          }
        }),
      );
      const unreachable = logs.flat().find((log) => "unreachable" in log);
      if (unreachable && "unreachable" in unreachable) {
        return skip(
          `the API server cannot read ${unreachable.pod}'s log from its node's kubelet (${unreachable.unreachable}): read it on the node`,
        );
      }
      return logResult(
        logs.flat().flatMap((log) => ("text" in log ? [log] : [])),
        ref,
        options.problems,
        options.tailLines ?? TAIL_LINES,
      );
    },
  };
}
