/**
 * `npm run doctor`: after `pulumi up`, and whenever something is wrong. Checks what the stack runs: every workload its
 * charts and its own resources run (declared once, beside the chart pins), Cilium's encryption, LB pool, L2 policy and
 * the gateway's address; mesh enrolment and the stack's Istio and Cilium objects; istiod's fetch of Access's keys;
 * the routed Services' ports against their allows; external-dns' log; the tunnel's status and connections, its
 * remote configuration and the routed hostnames' CNAMEs; with --probe, each public hostname over HTTPS. See
 * docs/troubleshooting.md.
 */
import type { Check } from "./checks/check";
import { tokenCheck } from "./checks/cloudflare/account";
import { cnamesCheck, configDriftCheck, connectionsCheck, tunnelCheck } from "./checks/cloudflare/tunnel";
import type { CheckContext } from "./checks/context";
import { encryptionCheck, gatewayAddressCheck, l2PolicyCheck, lbPoolObjectCheck } from "./checks/kubernetes/cilium";
import { apiServerCheck } from "./checks/kubernetes/cluster";
import { customObjectsCheck } from "./checks/kubernetes/istio";
import { EXTERNAL_DNS_PROBLEMS, JWKS_PROBLEMS, logCheck } from "./checks/kubernetes/logs";
import { enrolmentCheck } from "./checks/kubernetes/namespaces";
import { routesCheck } from "./checks/kubernetes/routes";
import { workloadCheck } from "./checks/kubernetes/workloads";
import { probeChecks } from "./checks/probe";
import { checkCommand } from "./check-command";
import { runAsProgram, runCommand, type Io } from "./command";
import type { StackFacts } from "./stack/facts";

function checks(facts: StackFacts, options: { probe: boolean }): Check<CheckContext>[] {
  const workloads = (component: string) =>
    facts.workloads
      .filter((w) => w.component === component)
      .map((ref) => workloadCheck({ id: `workload-${ref.namespace}-${ref.name}`, component, name: ref.name, ref }));
  const { istiod, jwksUri } = facts.istio;
  const externalDns = facts.externalDns.deployment;
  const accessKeys = istiod && facts.customObjects.some((o) => o.kind === "RequestAuthentication");
  return [
    apiServerCheck,
    ...workloads("Cilium"),
    encryptionCheck,
    lbPoolObjectCheck,
    l2PolicyCheck,
    customObjectsCheck({ id: "cilium-objects", component: "Cilium", group: "cilium.io", exact: false }),
    ...(facts.gateway.serviceType === "LoadBalancer" ? [gatewayAddressCheck] : []),
    ...workloads("Istio"),
    enrolmentCheck,
    customObjectsCheck({ id: "istio-objects", component: "Istio", group: "istio.io", exact: true }),
    ...(accessKeys
      ? [
          logCheck(istiod, {
            id: "istio-access-keys",
            component: "Istio",
            name: `Access keys${jwksUri ? ` (${new URL(jwksUri).host})` : ""}`,
            problems: JWKS_PROBLEMS,
            // istiod logs every push; a failed fetch is retried and logged again within minutes.
            tailLines: 1000,
          }),
        ]
      : []),
    routesCheck({ existing: true }),
    ...workloads("external-dns"),
    ...(externalDns
      ? [
          logCheck(externalDns, {
            id: "external-dns-log",
            component: "external-dns",
            name: "Log",
            problems: EXTERNAL_DNS_PROBLEMS,
          }),
        ]
      : []),
    tokenCheck,
    ...workloads("Tunnel"),
    tunnelCheck,
    connectionsCheck,
    configDriftCheck,
    cnamesCheck,
    ...(options.probe ? probeChecks(facts.tunnel.hostnames) : []),
  ];
}

export const doctor = checkCommand({
  name: "doctor",
  purpose: "Checks what the stack runs, after pulumi up and whenever something is wrong.",
  probe: true,
  checks,
});

export function main(argv: readonly string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  return runCommand(doctor, argv, env, io);
}

if (require.main === module) runAsProgram(main);
