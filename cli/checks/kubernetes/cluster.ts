/**
 * The cluster before the stack: the API server and its version, the nodes, what already does the CNI's and
 * kube-proxy's work, and the LB pool against the nodes' addresses.
 */
import type { KubernetesSupport, StackFacts } from "../../stack/facts";
import { count, fail, listing, ok, warn, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { isReady, listNodes, type Meta, type NodeObject } from "./objects";

export const KUBE_API = "kube-api";
const COMPONENT = "Kubernetes";
type Distribution = StackFacts["kubernetes"]["distribution"];

const serverVersion = (context: CheckContext): Promise<string> =>
  context.shared("version", async () => {
    const kube = await context.kube();
    return (await kube.request((api) => api.version.getCode())).gitVersion;
  });

export const apiServerCheck: Check<CheckContext> = {
  id: KUBE_API,
  component: COMPONENT,
  name: "API server",
  run: async (context) => {
    const [kube, version] = await Promise.all([context.kube(), serverVersion(context)]);
    return ok(`${version} answers at ${kube.server} (context ${kube.context})`);
  },
};

/** `v1.33.4+k3s1` → [1, 33]. */
function minorOf(version: string): [number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function compare(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Whether the pinned charts support the cluster's Kubernetes version. */
export function versionSupport(gitVersion: string, support: readonly KubernetesSupport[]): Result {
  const running = minorOf(gitVersion);
  if (!running) return warn(`cannot read the version '${gitVersion}'`, "check it against the charts' docs by hand");
  const ranges = support.map((s) => ({ ...s, range: `${s.oldest}–${s.newest}` }));
  const tooOld = ranges.filter((s) => s.oldest && compare(running, minorOf(s.oldest)!) < 0);
  const tooNew = ranges.filter((s) => s.newest && compare(running, minorOf(s.newest)!) > 0);
  const unknown = support.filter((s) => !s.oldest).map((s) => `${s.chart} ${s.version}`);
  const names = (list: typeof ranges) => listing(list.map((s) => `${s.chart} ${s.version} (${s.range})`));
  if (tooOld.length > 0) {
    return fail(
      `Kubernetes ${running.join(".")} is older than ${names(tooOld)} supports`,
      "upgrade the cluster first, or pin older releases in homecluster:versions",
    );
  }
  if (tooNew.length > 0) {
    return warn(
      `Kubernetes ${running.join(".")} is newer than ${names(tooNew)} is tested with`,
      "check the release notes, or pin newer releases in homecluster:versions",
    );
  }
  const known = ranges.filter((s) => s.oldest);
  const supported = known.length > 0 ? `supported by ${names(known)}` : "";
  const noData = unknown.length > 0 ? `no support data for ${listing(unknown)}` : "";
  return ok(`${running.join(".")}: ${[supported, noData].filter(Boolean).join("; ")}`);
}

export const versionCheck: Check<CheckContext> = {
  id: "kube-version",
  component: COMPONENT,
  name: "Kubernetes version",
  needs: [KUBE_API],
  run: async (context) => versionSupport(await serverVersion(context), context.facts.kubernetes.support),
};

const nodeName = (node: NodeObject) => node.metadata?.name ?? "(unnamed)";

/** The kubelet's reason when the node waits for a CNI: expected before the first `pulumi up`. */
const NO_CNI = /NetworkReady=false|cni plugin not initialized|NetworkPluginNotReady|no CNI configuration/i;

/** Every node and its state; nodes waiting for a CNI are expected before the stack installs Cilium. */
export function nodesResult(nodes: readonly NodeObject[]): Result {
  if (nodes.length === 0) return fail("the cluster lists no nodes", "join at least one node before pulumi up");
  const broken: string[] = [];
  const states = nodes.map((node) => {
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    const roles = Object.keys(node.metadata?.labels ?? {})
      .filter((label) => label.startsWith("node-role.kubernetes.io/"))
      .map((label) => label.slice("node-role.kubernetes.io/".length));
    const address = node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    const detail = [roles.join(","), address].filter(Boolean).join(" ");
    const name = `${nodeName(node)}${detail ? ` (${detail})` : ""}`;
    if (isReady(node.status?.conditions)) return `${name} Ready`;
    if (ready?.status === "False" && NO_CNI.test(ready.message ?? "")) return `${name} NotReady: waiting for a CNI`;
    broken.push(nodeName(node));
    return `${name} ${ready?.status === "Unknown" ? "Unknown (kubelet not reporting)" : `NotReady: ${ready?.message ?? "no Ready condition"}`}`;
  });
  const text = `${count(nodes.length, "node")}: ${states.join("; ")}`;
  return broken.length > 0
    ? fail(
        text,
        `bring ${listing(broken)} back or remove ${broken.length === 1 ? "it" : "them"} (kubectl describe node ${broken[0]})`,
      )
    : ok(text);
}

export const nodesCheck: Check<CheckContext> = {
  id: "kube-nodes",
  component: COMPONENT,
  name: "Nodes",
  needs: [KUBE_API],
  run: async (context) => nodesResult(await listNodes(context)),
};

/**
 * Taints a node carries before its CNI runs, which lift by themselves once Cilium is up: the kubelet's not-ready one
 * and Cilium's own agent-not-ready one.
 */
const TRANSIENT_TAINTS = new Set([
  "node.kubernetes.io/not-ready",
  "node.kubernetes.io/network-unavailable",
  "node.cilium.io/agent-not-ready",
]);

/** Why a node takes no ordinary pod, or undefined when it does. */
function unschedulable(node: NodeObject): string | undefined {
  if (node.spec?.unschedulable) return "cordoned";
  const taint = node.spec?.taints?.find(
    (t) => (t.effect === "NoSchedule" || t.effect === "NoExecute") && !TRANSIENT_TAINTS.has(t.key),
  );
  return taint && `taint ${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect}`;
}

const SCHEDULING_FIX: Record<Distribution, string> = {
  talos: "set cluster.allowSchedulingOnControlPlanes: true in the Talos machine config, or join a worker",
  k3s: "start the k3s server without a NoSchedule --node-taint, or join an agent",
  kubeadm: "kubectl taint nodes --all node-role.kubernetes.io/control-plane:NoSchedule-, or join a worker",
};

/**
 * Hubble Relay and UI, istiod, the gateway and cloudflared need a node that takes ordinary pods. Without one they stay
 * Pending, the atomic Cilium release times out, and Helm uninstalls Cilium again.
 */
export function schedulingResult(nodes: readonly NodeObject[], distribution: Distribution): Result {
  const blocked = nodes.map((node) => ({ node: nodeName(node), why: unschedulable(node) }));
  const open = blocked.filter((b) => b.why === undefined).map((b) => b.node);
  if (open.length > 0) return ok(`${listing(open)} take${open.length === 1 ? "s" : ""} ordinary pods`);
  return fail(
    `no node takes ordinary pods (${blocked.map((b) => `${b.node}: ${b.why}`).join("; ")}): Cilium's release would time out and be uninstalled`,
    SCHEDULING_FIX[distribution],
  );
}

export const schedulingCheck: Check<CheckContext> = {
  id: "kube-scheduling",
  component: COMPONENT,
  name: "Schedulable nodes",
  needs: [KUBE_API],
  run: async (context) => schedulingResult(await listNodes(context), context.facts.kubernetes.distribution),
};

/** The oldest kernel Cilium's WireGuard encryption runs on. */
const WIREGUARD_KERNEL: [number, number] = [5, 6];

/** With WireGuard on, every node's kernel must be 5.6 or newer. */
export function kernelResult(nodes: readonly NodeObject[]): Result {
  const kernels = nodes.map((node) => ({ node: nodeName(node), kernel: node.status?.nodeInfo?.kernelVersion ?? "" }));
  const old = kernels.filter(({ kernel }) => {
    const version = minorOf(kernel);
    return version === undefined || compare(version, WIREGUARD_KERNEL) < 0;
  });
  return old.length > 0
    ? fail(
        `${listing(old.map((k) => `${k.node} runs Linux ${k.kernel || "(unknown)"}`))}: WireGuard needs 5.6 or newer`,
        "upgrade the nodes' kernel, or set homecluster:cilium.encryption to none (the tunnel's hop to the gateway is then plaintext between nodes)",
      )
    : ok(`every node runs Linux 5.6 or newer (${[...new Set(kernels.map((k) => k.kernel))].join(", ")})`);
}

export const kernelCheck: Check<CheckContext> = {
  id: "kube-kernel",
  component: COMPONENT,
  name: "Kernel (WireGuard)",
  needs: [KUBE_API],
  run: async (context) => kernelResult(await listNodes(context)),
};

/** A DaemonSet's identity: enough to tell which CNI or proxy it runs. */
export interface DaemonSetInfo {
  metadata?: Meta;
}

const OTHER_CNI = /flannel|calico|canal|weave|kube-router|antrea|kindnet/;

const CNI_FIX: Record<Distribution, string> = {
  talos: "set cluster.network.cni.name: none in the Talos machine config and remove the CNI's DaemonSet",
  k3s: "start the k3s servers with --flannel-backend=none --disable-network-policy",
  kubeadm: "delete the other CNI's manifests and its config in /etc/cni/net.d on every node",
};

const KUBE_PROXY_FIX: Record<Distribution, string> = {
  talos: "set cluster.proxy.disabled: true in the Talos machine config and delete the kube-proxy DaemonSet",
  k3s: "start the k3s servers with --disable-kube-proxy",
  kubeadm:
    "kubectl -n kube-system delete daemonset kube-proxy (new clusters: kubeadm init --skip-phases=addon/kube-proxy), then clear its iptables rules on each node",
};

/** k3s runs flannel and kube-proxy inside its own binary: only the servers' arguments tell. */
function k3sServerArgs(nodes: readonly NodeObject[]): { node: string; args: string[] }[] {
  return nodes.flatMap((node) => {
    const text = node.metadata?.annotations?.["k3s.io/node-args"];
    if (!text) return [];
    try {
      const args: unknown = JSON.parse(text);
      return Array.isArray(args) && args[0] === "server" ? [{ node: nodeName(node), args: args.map(String) }] : [];
    } catch {
      return [];
    }
  });
}

const hasFlag = (args: string[], flag: string, value?: string) =>
  value === undefined
    ? args.includes(flag)
    : args.includes(`${flag}=${value}`) || args.some((arg, i) => arg === flag && args[i + 1] === value);

const daemonSetName = (ds: DaemonSetInfo) => `${ds.metadata?.namespace}/${ds.metadata?.name}`;

/** Another CNI already on the nodes: Cilium must be the only one. */
export function otherCniResult(
  daemonSets: readonly DaemonSetInfo[],
  nodes: readonly NodeObject[],
  distribution: Distribution,
): Result {
  const found = daemonSets
    .filter((ds) => OTHER_CNI.test(ds.metadata?.name ?? ""))
    .map((ds) => `DaemonSet ${daemonSetName(ds)}`);
  const flannel = k3sServerArgs(nodes).filter(({ args }) => !hasFlag(args, "--flannel-backend", "none"));
  if (flannel.length > 0) found.push(`k3s's bundled flannel (server ${flannel[0]!.node})`);
  return found.length > 0
    ? fail(`another CNI runs: ${listing(found)}; Cilium must be the only one`, CNI_FIX[distribution])
    : ok("no other CNI's DaemonSet");
}

/** kube-proxy alongside Cilium's replacement of it. */
export function kubeProxyResult(
  daemonSets: readonly DaemonSetInfo[],
  nodes: readonly NodeObject[],
  facts: Pick<StackFacts["kubernetes"], "distribution" | "kubeProxyReplacement">,
): Result {
  if (!facts.kubeProxyReplacement) return ok("Cilium's kube-proxy replacement is off: kube-proxy may run");
  const found = daemonSets
    .filter((ds) => ds.metadata?.name === "kube-proxy")
    .map((ds) => `DaemonSet ${daemonSetName(ds)}`);
  const k3s = k3sServerArgs(nodes).filter(({ args }) => !hasFlag(args, "--disable-kube-proxy"));
  if (k3s.length > 0) found.push(`k3s's bundled kube-proxy (server ${k3s[0]!.node})`);
  return found.length > 0
    ? fail(`kube-proxy runs (${listing(found)}) while Cilium replaces it`, KUBE_PROXY_FIX[facts.distribution])
    : ok("no kube-proxy: Cilium replaces it");
}

const listDaemonSets = (context: CheckContext): Promise<DaemonSetInfo[]> =>
  context.shared("daemonsets", async () => {
    const kube = await context.kube();
    return (await kube.request((api) => api.apps.listDaemonSetForAllNamespaces())).items;
  });

export const otherCniCheck: Check<CheckContext> = {
  id: "kube-cni",
  component: COMPONENT,
  name: "Other CNI",
  needs: [KUBE_API],
  run: async (context) =>
    otherCniResult(await listDaemonSets(context), await listNodes(context), context.facts.kubernetes.distribution),
};

export const kubeProxyCheck: Check<CheckContext> = {
  id: "kube-proxy",
  component: COMPONENT,
  name: "kube-proxy",
  needs: [KUBE_API],
  run: async (context) =>
    kubeProxyResult(await listDaemonSets(context), await listNodes(context), context.facts.kubernetes),
};

/** No node address may be handed out as a LoadBalancer IP. */
export function lbPoolResult(nodes: readonly NodeObject[], pool: StackFacts["cilium"]["lbPool"]): Result {
  const addresses = nodes.flatMap((node) =>
    (node.status?.addresses ?? [])
      .filter((a) => a.type === "InternalIP" || a.type === "ExternalIP")
      .map((a) => ({ node: nodeName(node), address: a.address })),
  );
  const inside = addresses.filter((a) => pool.contains(a.address));
  return inside.length > 0
    ? fail(
        `${listing(inside.map((a) => `${a.address} (node ${a.node})`))} inside the LB pool ${pool.description}`,
        "move homecluster:cilium.lbPool off the nodes' addresses (and out of the DHCP range)",
      )
    : ok(`no node address in the LB pool ${pool.description}`);
}

export const lbPoolCheck: Check<CheckContext> = {
  id: "kube-lb-pool",
  component: COMPONENT,
  name: "LB pool",
  needs: [KUBE_API],
  run: async (context) => lbPoolResult(await listNodes(context), context.facts.cilium.lbPool),
};
