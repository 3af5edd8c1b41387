/**
 * `npm run preflight`: before the first `pulumi up`, and before risky changes. Checks the cluster behind the stack's
 * kube context (API server and version, nodes, one that takes ordinary pods, kernels for WireGuard, no other CNI or
 * kube-proxy in Cilium's way, the namespaces the stack needs, no Helm release or object of the stack's there already,
 * the LB pool off the nodes' addresses, routed Services' ports) and the Cloudflare account (the token, its owner when
 * it mints, zone and account, the token's permissions, the Zero Trust team for Access, the tunnel name free, no
 * foreign DNS record on a routed hostname). Everything it checks for is read off the program's resource graph. See
 * docs/troubleshooting.md.
 */
import {
  accountCheck,
  organizationCheck,
  permissionsCheck,
  tokenCheck,
  tokenOwnerCheck,
  zoneCheck,
} from "./checks/cloudflare/account";
import { collisionsCheck } from "./checks/cloudflare/dns";
import { tunnelNameCheck } from "./checks/cloudflare/tunnel";
import {
  apiServerCheck,
  kernelCheck,
  kubeProxyCheck,
  lbPoolCheck,
  nodesCheck,
  otherCniCheck,
  schedulingCheck,
  versionCheck,
} from "./checks/kubernetes/cluster";
import { createdObjectsCheck } from "./checks/kubernetes/created";
import { fluxCheck } from "./checks/kubernetes/flux";
import { requiredNamespacesCheck } from "./checks/kubernetes/namespaces";
import { releasesCheck } from "./checks/kubernetes/releases";
import { routesCheck } from "./checks/kubernetes/routes";
import { checkCommand } from "./check-command";
import { runAsProgram, runCommand, type Io } from "./command";

export const preflight = checkCommand({
  name: "preflight",
  purpose: "Checks the cluster and the Cloudflare account before pulumi up.",
  probe: false,
  checks: (facts) => [
    apiServerCheck,
    versionCheck,
    nodesCheck,
    schedulingCheck,
    ...(facts.kubernetes.wireguard ? [kernelCheck] : []),
    otherCniCheck,
    kubeProxyCheck,
    requiredNamespacesCheck,
    releasesCheck,
    createdObjectsCheck,
    // Only an adopting up meets what Flux still reconciles.
    ...(facts.kubernetes.releases.some((r) => r.adopted) || facts.kubernetes.objects.some((o) => o.adopted)
      ? [fluxCheck]
      : []),
    lbPoolCheck,
    routesCheck({ existing: false }),
    tokenCheck,
    ...(facts.cloudflare.mintsToken ? [tokenOwnerCheck] : []),
    zoneCheck,
    accountCheck,
    permissionsCheck,
    ...(facts.cloudflare.access ? [organizationCheck] : []),
    tunnelNameCheck,
    collisionsCheck,
  ],
});

export function main(argv: readonly string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  return runCommand(preflight, argv, env, io);
}

if (require.main === module) runAsProgram(main);
