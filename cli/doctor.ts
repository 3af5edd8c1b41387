/**
 * `npm run doctor`: after `pulumi up`, and whenever something is wrong. Checks what the stack runs: Cilium's agents,
 * operator, Hubble Relay, LB pool, L2 policy and the gateway's address; Istio's control plane, node agents, gateway,
 * mesh enrolment and policies; external-dns and its log; cloudflared, the tunnel's status and connections, its remote
 * configuration and the routed hostnames' CNAMEs; with --probe, each public hostname over HTTPS. See
 * docs/troubleshooting.md.
 */
import type { Check } from "./checks/check";
import { tokenCheck } from "./checks/cloudflare/account";
import { cnamesCheck, configDriftCheck, connectionsCheck, tunnelCheck } from "./checks/cloudflare/tunnel";
import type { CheckContext } from "./checks/context";
import { gatewayAddressCheck, l2PolicyCheck, lbPoolObjectCheck } from "./checks/kubernetes/cilium";
import { apiServerCheck } from "./checks/kubernetes/cluster";
import { policiesCheck } from "./checks/kubernetes/istio";
import { logCheck } from "./checks/kubernetes/logs";
import { enrolmentCheck } from "./checks/kubernetes/namespaces";
import { workloadCheck } from "./checks/kubernetes/workloads";
import { probeChecks } from "./checks/probe";
import { runAsProgram, runCommand, type Command, type Io } from "./command";
import type { StackFacts } from "./stack";

function checks(facts: StackFacts, options: { probe: boolean }): Check<CheckContext>[] {
  const { cilium, istio } = facts;
  return [
    apiServerCheck,
    workloadCheck({ id: "cilium-agent", component: "Cilium", name: "Agents", ref: cilium.agent }),
    workloadCheck({ id: "cilium-operator", component: "Cilium", name: "Operator", ref: cilium.operator }),
    ...(cilium.hubbleRelay
      ? [
          workloadCheck({
            id: "cilium-hubble-relay",
            component: "Cilium",
            name: "Hubble Relay",
            ref: cilium.hubbleRelay,
          }),
        ]
      : []),
    lbPoolObjectCheck,
    l2PolicyCheck,
    ...(facts.gateway.serviceType === "LoadBalancer" ? [gatewayAddressCheck] : []),
    workloadCheck({ id: "istio-istiod", component: "Istio", name: "istiod", ref: istio.istiod }),
    workloadCheck({ id: "istio-ztunnel", component: "Istio", name: "ztunnel", ref: istio.ztunnel }),
    workloadCheck({ id: "istio-cni", component: "Istio", name: "istio-cni", ref: istio.cni }),
    workloadCheck({ id: "istio-gateway", component: "Istio", name: "Ingress gateway", ref: istio.gateway }),
    enrolmentCheck,
    policiesCheck,
    workloadCheck({
      id: "external-dns",
      component: "external-dns",
      name: "Deployment",
      ref: facts.externalDns.deployment,
    }),
    logCheck(facts.externalDns.deployment),
    tokenCheck,
    workloadCheck({
      id: "tunnel-cloudflared",
      component: "Tunnel",
      name: "cloudflared",
      ref: facts.tunnel.cloudflared,
    }),
    tunnelCheck,
    connectionsCheck,
    configDriftCheck,
    cnamesCheck,
    ...(options.probe ? probeChecks(facts.tunnel.hostnames) : []),
  ];
}

export const doctor: Command = {
  name: "doctor",
  purpose: "Checks what the stack runs, after pulumi up and whenever something is wrong.",
  probe: true,
  checks,
};

export function main(argv: readonly string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  return runCommand(doctor, argv, env, io);
}

if (require.main === module) runAsProgram(main);
