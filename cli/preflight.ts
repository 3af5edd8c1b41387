/**
 * `npm run preflight`: before the first `pulumi up`, and before risky changes. Checks the cluster behind the stack's
 * kube context (API server and version, nodes, no other CNI or kube-proxy in Cilium's way, the namespaces the stack
 * needs, no Helm release in the way of the stack's, the LB pool off the nodes' addresses) and the Cloudflare account
 * (the token, zone and account, the token's permissions, the tunnel name free, no foreign DNS record on a routed
 * hostname). See docs/troubleshooting.md.
 */
import { accountCheck, permissionsCheck, tokenCheck, zoneCheck } from "./checks/cloudflare/account";
import { collisionsCheck } from "./checks/cloudflare/dns";
import { tunnelNameCheck } from "./checks/cloudflare/tunnel";
import {
  apiServerCheck,
  kubeProxyCheck,
  lbPoolCheck,
  nodesCheck,
  otherCniCheck,
  versionCheck,
} from "./checks/kubernetes/cluster";
import { requiredNamespacesCheck } from "./checks/kubernetes/namespaces";
import { releasesCheck } from "./checks/kubernetes/releases";
import { runAsProgram, runCommand, type Command, type Io } from "./command";

export const preflight: Command = {
  name: "preflight",
  purpose: "Checks the cluster and the Cloudflare account before pulumi up.",
  probe: false,
  checks: () => [
    apiServerCheck,
    versionCheck,
    nodesCheck,
    otherCniCheck,
    kubeProxyCheck,
    requiredNamespacesCheck,
    releasesCheck,
    lbPoolCheck,
    tokenCheck,
    zoneCheck,
    accountCheck,
    permissionsCheck,
    tunnelNameCheck,
    collisionsCheck,
  ],
};

export function main(argv: readonly string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  return runCommand(preflight, argv, env, io);
}

if (require.main === module) runAsProgram(main);
