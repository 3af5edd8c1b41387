/**
 * Each check is a function over API responses: here each one on a healthy and on broken responses, built from the
 * APIs' documented shapes (fixtures.ts). And the framework: concurrency, skips, the deadline, rendering.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ok, type Check } from "../../cli/checks/check";
import { CheckError } from "../../cli/clients/error";
import {
  organizationResult,
  permissionsResult,
  tokenOwnerResult,
  tokenResult,
  zoneResult,
  type TokenPolicyInfo,
} from "../../cli/checks/cloudflare/account";
import { cnamesResult, collisionsResult, type DnsRecordInfo } from "../../cli/checks/cloudflare/dns";
import {
  coloSummary,
  configDriftResult,
  connectionsResult,
  existingTunnelResult,
  tunnelResult,
  type RemoteConfigInfo,
} from "../../cli/checks/cloudflare/tunnel";
import {
  encryptionResult,
  gatewayAddressResult,
  l2PolicyResult,
  lbPoolObjectResult,
} from "../../cli/checks/kubernetes/cilium";
import { createdObjectsResult } from "../../cli/checks/kubernetes/created";
import { routesResult, type RouteFinding } from "../../cli/checks/kubernetes/routes";
import {
  kernelResult,
  kubeProxyResult,
  lbPoolResult,
  nodesResult,
  schedulingResult,
  otherCniResult,
  versionSupport,
} from "../../cli/checks/kubernetes/cluster";
import { customObjectsResult } from "../../cli/checks/kubernetes/istio";
import { JWKS_PROBLEMS, logResult } from "../../cli/checks/kubernetes/logs";
import { enrolmentResult, requiredNamespacesResult } from "../../cli/checks/kubernetes/namespaces";
import { matches, resourceOf } from "../../cli/checks/kubernetes/objects";
import { releaseChart, releasesResult } from "../../cli/checks/kubernetes/releases";
import { daemonSetResult, deploymentResult } from "../../cli/checks/kubernetes/workloads";
import { probeResult } from "../../cli/checks/probe";
import { exitCode, redact, renderJson, renderText } from "../../cli/checks/render";
import { runChecks } from "../../cli/checks/runner";
import { parseArgs } from "../../cli/command";
import { COMPUTED, type StackFacts } from "../../cli/stack/facts";
import { doctor } from "../../cli/doctor";
import {
  accountBeforeUp,
  daemonSet,
  deployment,
  facts as loadFacts,
  healthyAccount,
  healthyCluster,
  helmSecret,
  namespace,
  node,
  pod,
  CONTROL_PLANE_TAINT,
  NOT_READY_TAINT,
  RECORD_COMMENT,
  TUNNEL_ID,
} from "./fixtures";

let facts: StackFacts;
beforeAll(async () => {
  facts = await loadFacts();
});
const READY = { status: "True", message: "kubelet is posting ready status" };
const nodes = [node("cp1", "192.168.1.11", READY), node("w1", "192.168.1.12", READY)];

describe("Kubernetes checks", () => {
  it("versionSupport: within, below and above the charts' ranges, and versions without data", () => {
    expect(versionSupport("v1.34.2+k3s1", facts.kubernetes.support)).toEqual(
      ok("1.34: supported by cilium 1.20.0 (1.32–1.36) and istio 1.30.3 (1.32–1.36)"),
    );
    expect(versionSupport("v1.31.9", facts.kubernetes.support)).toMatchObject({
      status: "fail",
      message: "Kubernetes 1.31 is older than cilium 1.20.0 (1.32–1.36) and istio 1.30.3 (1.32–1.36) supports",
    });
    expect(versionSupport("v1.37.0", facts.kubernetes.support).status).toBe("warn");
    expect(versionSupport("v1.34.0", [{ chart: "cilium", version: "1.21.0" }])).toEqual(
      ok("1.34: no support data for cilium 1.21.0"),
    );
  });

  it("nodesResult: a node waiting for a CNI is expected, one that stopped reporting is not", () => {
    const waiting = node("w2", "192.168.1.13", {
      status: "False",
      message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady",
    });
    expect(nodesResult([...nodes, waiting])).toEqual(
      ok(
        "3 nodes: cp1 (control-plane 192.168.1.11) Ready; w1 (192.168.1.12) Ready; w2 (192.168.1.13) NotReady: waiting for a CNI",
      ),
    );
    const gone = node("w2", "192.168.1.13", { status: "Unknown", message: "Kubelet stopped posting node status." });
    expect(nodesResult([...nodes, gone])).toMatchObject({
      status: "fail",
      fix: "bring w2 back or remove it (kubectl describe node w2)",
    });
    expect(nodesResult([]).status).toBe("fail");
  });

  it("otherCniResult and kubeProxyResult: k3s's bundled flannel and kube-proxy show only in the server's arguments", () => {
    const server = (args: string[]) => {
      const n = node("k3s-1", "192.168.1.11", READY);
      return { ...n, metadata: { ...n.metadata, annotations: { "k3s.io/node-args": JSON.stringify(args) } } };
    };
    const k3s = { distribution: "k3s" as const, kubeProxyReplacement: true };
    expect(otherCniResult([], [server(["server", "--flannel-backend", "none"])], "k3s").status).toBe("ok");
    expect(otherCniResult([], [server(["server"])], "k3s")).toEqual({
      status: "fail",
      message: "another CNI runs: k3s's bundled flannel (server k3s-1); Cilium must be the only one",
      fix: "start the k3s servers with --flannel-backend=none --disable-network-policy",
    });
    expect(kubeProxyResult([], [server(["server", "--disable-kube-proxy"])], k3s).status).toBe("ok");
    expect(kubeProxyResult([], [server(["server", "--flannel-backend=none"])], k3s)).toMatchObject({
      status: "fail",
      fix: "start the k3s servers with --disable-kube-proxy",
    });
    const kubeProxy = [{ metadata: { name: "kube-proxy", namespace: "kube-system" } }];
    expect(kubeProxyResult(kubeProxy, nodes, { distribution: "kubeadm", kubeProxyReplacement: false }).status).toBe(
      "ok",
    );
    expect(kubeProxyResult(kubeProxy, nodes, { distribution: "kubeadm", kubeProxyReplacement: true }).fix).toMatch(
      /^kubectl -n kube-system delete daemonset kube-proxy/,
    );
  });

  it("lbPoolResult: a node address inside the pool fails", () => {
    expect(lbPoolResult(nodes, facts.cilium.lbPool)).toEqual(ok("no node address in the LB pool 192.168.1.224/28"));
    expect(lbPoolResult([node("nas", "192.168.1.239", READY)], facts.cilium.lbPool).message).toBe(
      "192.168.1.239 (node nas) inside the LB pool 192.168.1.224/28",
    );
  });

  it("requiredNamespacesResult and enrolmentResult", () => {
    expect(requiredNamespacesResult([namespace("media")], facts.kubernetes.namespaces)).toEqual(ok("media exists"));
    expect(requiredNamespacesResult([], facts.kubernetes.namespaces).fix).toBe("kubectl create namespace media");
    const ambient = { "istio.io/dataplane-mode": "ambient" };
    expect(enrolmentResult([namespace("media", ambient), namespace("cloudflared", ambient)], facts.istio).status).toBe(
      "ok",
    );
    expect(enrolmentResult([namespace("media")], facts.istio).message).toBe(
      "missing: cloudflared; not labelled istio.io/dataplane-mode=ambient: media",
    );
  });

  it("releasesResult: none, one in the way, one stuck mid-upgrade, one of another chart", () => {
    const finding = (secrets: ReturnType<typeof helmSecret>[], adopted = false) => [
      { release: "cilium", namespace: "kube-system", chart: "cilium", secrets, adopted },
    ];
    expect(releasesResult(finding([]))).toEqual(ok("none of cilium is installed yet"));
    expect(releasesResult(finding([helmSecret("kube-system", "cilium", "cilium", "1.16.5")]))).toMatchObject({
      status: "warn",
      message: "kube-system/cilium (chart cilium 1.16.5, revision 1, deployed) exists",
    });
    expect(
      releasesResult(finding([helmSecret("kube-system", "cilium", "cilium", "1.16.5", "pending-upgrade")])).status,
    ).toBe("fail");
    expect(releasesResult(finding([helmSecret("kube-system", "cilium", "calico", "3.29.0")])).message).toBe(
      "kube-system/cilium (chart calico 3.29.0, revision 1, deployed) takes a release name of this stack with another chart",
    );
    // Adopted: it must exist, and is then upgraded in place.
    expect(releasesResult(finding([], true))).toMatchObject({
      status: "fail",
      message: "homecluster:adopt names kube-system/cilium, which is not installed: the import fails",
    });
    expect(releasesResult(finding([helmSecret("kube-system", "cilium", "cilium", "1.16.5")], true))).toEqual(
      ok("kube-system/cilium (chart cilium 1.16.5, revision 1, deployed): adopted, upgraded in place"),
    );
    // Helm stores uncompressed JSON too; unreadable data leaves the chart unknown.
    const plain = Buffer.from(Buffer.from(JSON.stringify({ chart: { metadata: { name: "x" } } })).toString("base64"));
    expect(releaseChart({ data: { release: plain.toString("base64") } })).toEqual({ name: "x" });
    expect(releaseChart({ data: { release: "not base64 gzip" } })).toEqual({});
  });

  it("deploymentResult and daemonSetResult: ready, partly ready, missing, not ready with the pod's reason", () => {
    const ref = { kind: "Deployment" as const, namespace: "istio-system", name: "istiod" };
    const labels = { app: "istiod" };
    const healthy = deployment("istio-system", "istiod", labels, 2);
    const pods = [pod("istio-system", "istiod-a", labels, "cp1"), pod("istio-system", "istiod-b", labels, "w1")];
    expect(deploymentResult(ref, healthy, pods)).toEqual(ok("2/2 ready"));
    const half = { ...healthy, status: { ...healthy.status, readyReplicas: 1 } };
    expect(deploymentResult(ref, half, [pods[0]!, pod("istio-system", "istiod-b", labels, "w1", false)])).toEqual({
      status: "warn",
      message: "1/2 ready; istiod-b CrashLoopBackOff",
      fix: "kubectl -n istio-system describe deployment istiod",
    });
    const none = { ...healthy, status: { replicas: 2 } };
    expect(deploymentResult(ref, none, []).status).toBe("fail");
    expect(deploymentResult(ref, undefined, []).message).toBe("Deployment istio-system/istiod not found");

    const ztunnel = { kind: "DaemonSet" as const, namespace: "istio-system", name: "ztunnel" };
    const zLabels = { app: "ztunnel" };
    const ds = daemonSet("istio-system", "ztunnel", zLabels);
    const onNodes = [pod("istio-system", "ztunnel-a", zLabels, "cp1"), pod("istio-system", "ztunnel-b", zLabels, "w1")];
    expect(daemonSetResult(ztunnel, ds, onNodes, nodes)).toEqual(ok("ready on all 2 nodes"));
    expect(daemonSetResult(ztunnel, ds, [onNodes[0]!], nodes).message).toBe("missing on w1");
    expect(
      daemonSetResult(ztunnel, ds, [onNodes[0]!, pod("istio-system", "ztunnel-b", zLabels, "w1", false)], nodes)
        .message,
    ).toBe("not ready on w1 (CrashLoopBackOff)");
  });

  it("Cilium's pool, L2 policy and the gateway's address", async () => {
    const cluster = await healthyCluster();
    const custom = cluster.custom;
    const pools = custom["cilium.io/v2/ciliumloadbalancerippools"]!;
    expect(lbPoolObjectResult(pools, facts.cilium.lbPool)).toEqual(ok("cilium-lb-pool: 192.168.1.224/28"));
    const other = [{ metadata: { name: "old" }, spec: { blocks: [{ cidr: "10.0.0.0/24" }] } }];
    expect(lbPoolObjectResult(other, facts.cilium.lbPool).message).toBe(
      "no CiliumLoadBalancerIPPool has the blocks 192.168.1.224/28 (found: old)",
    );
    const conflicting = structuredClone(pools);
    conflicting[0]!.status.conditions[1] = {
      type: "cilium.io/PoolConflict",
      status: "True",
      message: 'Pool overlaps with CIDR of "old"',
    };
    expect(lbPoolObjectResult(conflicting, facts.cilium.lbPool).status).toBe("fail");
    const l2 = custom["cilium.io/v2alpha1/ciliuml2announcementpolicies"]!;
    expect(l2PolicyResult(l2, facts.cilium.l2Policy).status).toBe("ok");
    expect(l2PolicyResult([], facts.cilium.l2Policy).message).toBe("no CiliumL2AnnouncementPolicy exists");

    const service = cluster.services[0]!;
    expect(gatewayAddressResult(service, facts.gateway)).toEqual(
      ok("Service istio-ingress/istio-ingress: 192.168.1.225"),
    );
    expect(gatewayAddressResult({ ...service, status: { loadBalancer: {} } }, facts.gateway).message).toBe(
      "Service istio-ingress/istio-ingress has no address yet",
    );
    const elsewhere = { ...service, status: { loadBalancer: { ingress: [{ ip: "192.168.1.230" }] } } };
    expect(gatewayAddressResult(elsewhere, facts.gateway).message).toBe(
      "Service istio-ingress/istio-ingress got 192.168.1.230, not 192.168.1.225 (homecluster:istio.gateway.loadBalancerIP)",
    );
  });

  it("customObjectsResult: every object exists with the stack's spec; what Cloudflare computes matches anything", () => {
    const istio = facts.customObjects.filter((o) => o.apiVersion.includes("istio.io"));
    const listed = (objects: typeof istio) =>
      new Map(
        [...new Set(objects.map((o) => o.kind))].map((kind) => [
          kind,
          structuredClone(objects.filter((o) => o.kind === kind)),
        ]),
      );
    expect(customObjectsResult(istio, listed(istio)).message).toBe(
      "9 objects as the stack sets them (AuthorizationPolicy: 5, PeerAuthentication: 1, Gateway: 1, VirtualService: 2)",
    );
    const withoutDeny = istio.filter((o) => o.metadata.name !== "allow-nothing");
    expect(customObjectsResult(istio, listed(withoutDeny)).message).toBe(
      "missing: AuthorizationPolicy istio-system/allow-nothing",
    );
    const edited = structuredClone(istio);
    const deny = edited.find((o) => o.metadata.name === "allow-nothing")!;
    deny.spec = { rules: [{}] };
    expect(customObjectsResult(istio, listed(edited), true)).toMatchObject({
      status: "fail",
      message: "not as the stack sets it: AuthorizationPolicy istio-system/allow-nothing",
    });
    // Cilium's CRDs default fields, so there a key the stack did not set is not an edit.
    expect(customObjectsResult(istio, listed(edited), false).status).toBe("ok");
    const mtls = structuredClone(istio);
    mtls.find((o) => o.kind === "PeerAuthentication")!.spec = { mtls: { mode: "PERMISSIVE" } };
    expect(customObjectsResult(istio, listed(mtls), false).message).toMatch(
      /^not as the stack sets it: PeerAuthentication /,
    );
    const computed = [{ ...istio[0]!, spec: { audiences: [COMPUTED] } }];
    expect(customObjectsResult(computed, listed([{ ...istio[0]!, spec: { audiences: ["a1b2"] } }])).status).toBe("ok");
    expect(customObjectsResult(computed, listed([{ ...istio[0]!, spec: {} }])).status).toBe("fail");
  });

  it("logResult: quotes the most severe problem, ignores debug lines", () => {
    const ref = facts.externalDns.deployment!;
    const log = (...lines: string[]) => [{ pod: "external-dns-1", text: lines.join("\n") }];
    expect(logResult(log('level=info msg="All records are already up to date"'), ref).status).toBe("ok");
    expect(logResult(log('level=debug msg="Skipping endpoint because owner id does not match"'), ref).status).toBe(
      "ok",
    );
    const limited = logResult(log('level=error msg="failed to list zones: 429 Too Many Requests"'), ref);
    expect(limited).toEqual({
      status: "warn",
      message:
        'Cloudflare rate-limits it: external-dns-1: "level=error msg="failed to list zones: 429 Too Many Requests""',
      fix: "raise homecluster:externalDns.interval (Cloudflare allows 1200 requests per 5 minutes) (kubectl -n external-dns logs deploy/external-dns)",
    });
    const both = logResult(
      log(
        'level=error msg="failed to create record: An A, AAAA, or CNAME record with that host already exists. (81053)"',
        'level=error msg="failed to list zones: Invalid request headers (6003)"',
      ),
      ref,
    );
    expect(both.message).toBe(
      'Cloudflare rejects its token: external-dns-1: "level=error msg="failed to list zones: Invalid request headers (6003)"" (2 problem lines in all)',
    );
    expect(logResult([], ref).status).toBe("fail");
  });

  it("resourceOf: the plural each CRD declares, for every kind the stack creates", () => {
    // From the pinned CRDs' spec.names.plural.
    const kinds: [string, string, string][] = [
      ["security.istio.io/v1", "AuthorizationPolicy", "authorizationpolicies"],
      ["security.istio.io/v1", "PeerAuthentication", "peerauthentications"],
      ["security.istio.io/v1", "RequestAuthentication", "requestauthentications"],
      ["networking.istio.io/v1", "ServiceEntry", "serviceentries"],
      ["networking.istio.io/v1", "VirtualService", "virtualservices"],
      ["networking.istio.io/v1", "Gateway", "gateways"],
      ["cilium.io/v2", "CiliumLoadBalancerIPPool", "ciliumloadbalancerippools"],
      ["cilium.io/v2alpha1", "CiliumL2AnnouncementPolicy", "ciliuml2announcementpolicies"],
    ];
    for (const [apiVersion, kind, plural] of kinds) {
      expect(resourceOf(apiVersion, kind)).toEqual({
        group: apiVersion.split("/")[0],
        version: apiVersion.split("/")[1],
        plural,
      });
    }
  });

  it("matches: objects by subset, lists exactly", () => {
    expect(matches({ a: [{ b: 1 }] }, { a: [{ b: 1, c: 2 }], d: 3 })).toBe(true);
    expect(matches({ a: [1] }, { a: [1, 2] })).toBe(false);
    expect(matches({ a: 1 }, null)).toBe(false);
  });
});

describe("what a real cluster does to a first up", () => {
  const tainted = (name: string, ...taints: { key: string; effect: string; value?: string }[]) => {
    const n = node(name, "192.168.1.20", READY);
    return { ...n, spec: { taints } };
  };

  it("schedulingResult: a lone tainted control plane fails with its distribution's fix; a CNI's taints do not count", () => {
    const lone = [tainted("cp1", CONTROL_PLANE_TAINT, NOT_READY_TAINT)];
    expect(schedulingResult(lone, "talos")).toEqual({
      status: "fail",
      message:
        "no node takes ordinary pods (cp1: taint node-role.kubernetes.io/control-plane:NoSchedule): Cilium's release would time out and be uninstalled",
      fix: "set cluster.allowSchedulingOnControlPlanes: true in the Talos machine config, or join a worker",
    });
    expect(schedulingResult(lone, "k3s").fix).toBe(
      "start the k3s server without a NoSchedule --node-taint, or join an agent",
    );
    // Before a CNI every node is not-ready and network-unavailable: those taints go once Cilium runs.
    const waiting = tainted(
      "w1",
      NOT_READY_TAINT,
      { key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" },
      { key: "node.cilium.io/agent-not-ready", effect: "NoExecute" },
    );
    expect(schedulingResult([...lone, waiting], "talos")).toEqual(ok("w1 takes ordinary pods"));
    const cordoned = { ...tainted("w2"), spec: { unschedulable: true } };
    expect(schedulingResult([cordoned], "kubeadm").message).toBe(
      "no node takes ordinary pods (w2: cordoned): Cilium's release would time out and be uninstalled",
    );
    // A PreferNoSchedule taint still takes pods.
    expect(schedulingResult([tainted("cp1", { ...CONTROL_PLANE_TAINT, effect: "PreferNoSchedule" })], "talos")).toEqual(
      ok("cp1 takes ordinary pods"),
    );
  });

  it("kernelResult: WireGuard needs Linux 5.6; an unreadable version fails rather than passes", () => {
    const withKernel = (name: string, kernelVersion: string) => {
      const n = node(name, "192.168.1.20", READY);
      return { ...n, status: { ...n.status, nodeInfo: { ...n.status.nodeInfo, kernelVersion } } };
    };
    expect(kernelResult([withKernel("a", "6.12.57-talos"), withKernel("b", "5.6.0")])).toEqual(
      ok("every node runs Linux 5.6 or newer (6.12.57-talos, 5.6.0)"),
    );
    expect(kernelResult([withKernel("a", "5.15.0-1-generic"), withKernel("b", "5.4.0-182-generic")])).toMatchObject({
      status: "fail",
      message: "b runs Linux 5.4.0-182-generic: WireGuard needs 5.6 or newer",
      fix: expect.stringContaining("homecluster:cilium.encryption to none"),
    });
    expect(kernelResult([withKernel("a", "")]).message).toBe("a runs Linux (unknown): WireGuard needs 5.6 or newer");
  });

  it("createdObjectsResult: an object left by an earlier install fails naming it; Pulumi's own warns", () => {
    const objects = facts.kubernetes.objects;
    const at = (kind: string, name: string) => objects.findIndex((o) => o.kind === kind && o.name === name);
    const found = objects.map(() => undefined as undefined | { metadata: object });
    expect(createdObjectsResult(objects, found)).toEqual(
      ok(`none of the ${objects.length} objects the stack creates exists yet`),
    );
    const helm = { metadata: { managedFields: [{ manager: "helm" }] } };
    const flux = structuredClone(found);
    flux[at("Namespace", "istio-system")] = helm;
    flux[at("Secret", "cloudflared-token")] = { metadata: { managedFields: [{ manager: "kustomize-controller" }] } };
    expect(createdObjectsResult(objects, flux)).toEqual({
      status: "fail",
      message:
        "Namespace istio-system, Secret cloudflared/cloudflared-token exist already, not made by Pulumi: the first pulumi up stops at them (AlreadyExists), half-way",
      fix: "adopt them (npm run adopt prints homecluster:adopt; docs/migration.md), or delete them (an old install's)",
    });
    const own = structuredClone(found);
    own[at("Deployment", "cloudflared")] = { metadata: { managedFields: [{ manager: "pulumi-kubernetes-6f1c2d" }] } };
    expect(createdObjectsResult(objects, own)).toMatchObject({
      status: "warn",
      message: "1 object exists already, managed by Pulumi: Deployment cloudflared/cloudflared",
    });
  });

  it("routesResult: a Service forwarding the route's port elsewhere fails, naming the route and the targetPort to set", () => {
    const [jellyfin] = facts.routes;
    expect(jellyfin).toMatchObject({ configKey: "homecluster:routes[0]", port: 8096, allowPort: 8096 });
    const service = (targetPort: number | string | undefined, selector = { app: "jellyfin" }) => ({
      metadata: { name: "jellyfin", namespace: "media" },
      spec: { selector, ports: [{ name: "http", port: 8096, ...(targetPort === undefined ? {} : { targetPort }) }] },
    });
    const finding = (svc: RouteFinding["service"], pods: RouteFinding["pods"] = []): RouteFinding => ({
      route: jellyfin!,
      service: svc,
      pods,
    });
    expect(routesResult([finding(service(8096))], { existing: true })).toEqual(
      ok("1 routed Service forwards to the port the allow admits"),
    );
    expect(routesResult([finding(service(undefined))], { existing: true }).status).toBe("ok");
    expect(routesResult([finding(service(8080))], { existing: true })).toEqual({
      status: "fail",
      message:
        "homecluster:routes[0] (jellyfin.example.com): Service media/jellyfin forwards port 8096 to 8080, the allow admits 8096: every request is denied",
      fix: "set targetPort: 8080 on homecluster:routes[0], then pulumi up",
    });
    // A named targetPort resolves through the selected pods' container ports, as the kubelet resolves it.
    const pods = [{ spec: { containers: [{ ports: [{ name: "web", containerPort: 8080 }] }] } }];
    expect(routesResult([finding(service("web"), pods)], { existing: true }).fix).toBe(
      "set targetPort: 8080 on homecluster:routes[0], then pulumi up",
    );
    expect(routesResult([finding(service("web"), [])], { existing: true })).toMatchObject({
      status: "warn",
      message:
        "homecluster:routes[0] (jellyfin.example.com): Service media/jellyfin forwards 8096 to the named port 'web', which no selected pod has",
    });
    // preflight runs before the apps exist; doctor does not excuse a missing Service.
    expect(routesResult([finding(undefined)], { existing: false })).toEqual(
      ok("no routed Service is deployed yet (media/jellyfin): doctor checks them after"),
    );
    expect(routesResult([finding(undefined)], { existing: true })).toMatchObject({
      status: "fail",
      message: "no Service media/jellyfin",
    });
  });

  it("encryptionResult: reads cilium-config as the chart writes it", () => {
    expect(encryptionResult({ data: { "enable-wireguard": "true" } }, true)).toEqual(
      ok("WireGuard encrypts pod traffic between nodes"),
    );
    expect(encryptionResult({ data: {} }, true)).toMatchObject({
      status: "fail",
      message: "WireGuard is off: cloudflared's requests cross to the gateway in plaintext",
    });
    expect(encryptionResult({ data: { "enable-wireguard": "true" } }, false).message).toBe(
      "WireGuard is on, the stack sets it off",
    );
    expect(encryptionResult(undefined, true).status).toBe("fail");
    expect(facts.kubernetes.wireguard).toBe(true);
  });

  it("logResult with JWKS_PROBLEMS: istiod's failed fetch of Access's keys, in its own words", () => {
    const istiod = { kind: "Deployment" as const, name: "istiod", namespace: "istio-system" };
    const line =
      '2026-12-01T10:00:00.000000Z\terror\tmodel\tFailed to fetch public key from jwks URI "https://home.cloudflareaccess.com/cdn-cgi/access/certs": Get "https://home.cloudflareaccess.com/cdn-cgi/access/certs": dial tcp: lookup home.cloudflareaccess.com: i/o timeout';
    const result = logResult([{ pod: "istiod-7d9f", text: `info\tads\tpush\n${line}\n` }], istiod, JWKS_PROBLEMS, 500);
    expect(result).toMatchObject({
      status: "fail",
      message: expect.stringMatching(
        /^istiod cannot fetch Access's signing keys, so every protected host answers 401: istiod-7d9f: "2026-12-01T10:00:00.000000Z\terror\tmodel\tFailed to fetch public key from jwks URI/,
      ),
    });
    const refreshed =
      'warn\tmodel\tFailed to refresh JWT public key from "https://home.cloudflareaccess.com/cdn-cgi/access/certs": x';
    expect(logResult([{ pod: "istiod-7d9f", text: refreshed }], istiod, JWKS_PROBLEMS, 500).status).toBe("fail");
    expect(
      logResult(
        [{ pod: "istiod-7d9f", text: "info\tmodel\tUpdated cached JWT public key from x" }],
        istiod,
        JWKS_PROBLEMS,
        500,
      ),
    ).toEqual(ok("no such line in the last 500 lines of istiod-7d9f"));
  });
});

describe("Cloudflare checks", () => {
  const policies = (accountBeforeUp().tokenDetails as { policies: TokenPolicyInfo[] }).policies;

  it("tokenResult: active, expiring soon, expired", () => {
    const now = new Date("2026-06-01T00:00:00Z");
    expect(tokenResult({ id: "t", status: "active", owner: "user" }, now)).toEqual(ok("active user token, no expiry"));
    expect(
      tokenResult({ id: "t", status: "active", expires_on: "2026-06-05T00:00:00Z", owner: "account" }, now),
    ).toMatchObject({ status: "warn", message: "active account-owned token, expires 2026-06-05 (in 4 days)" });
    expect(tokenResult({ id: "t", status: "expired", owner: "user" }, now).status).toBe("fail");
  });

  it("tokenOwnerResult: only a user's token can mint external-dns' token", () => {
    expect(tokenOwnerResult({ id: "t", status: "active", owner: "user" }).status).toBe("ok");
    expect(tokenOwnerResult({ id: "t", status: "active", owner: "account" })).toEqual({
      status: "fail",
      message: "the token is account-owned, and only a user's token can mint external-dns' token",
      fix: 'create external-dns\' token by hand (Zone Read and DNS Edit on the zone) and pulumi config set --secret externalDnsApiToken <token>, or deploy with a user token from the "Create additional tokens" template (README)',
    });
    expect(facts.cloudflare.mintsToken).toBe(true);
  });

  it("organizationResult: Access needs the account's Zero Trust team, and the one config names", () => {
    expect(
      organizationResult({ auth_domain: "home.cloudflareaccess.com", name: "home" }, "home.cloudflareaccess.com"),
    ).toEqual(ok("team home at home.cloudflareaccess.com"));
    expect(organizationResult(undefined, undefined)).toEqual({
      status: "fail",
      message: "the account has no Zero Trust organisation (team): Access cannot protect a route",
      fix: "create the team once: Cloudflare dashboard → Zero Trust, choose a team name (the free plan is enough), then pulumi up",
    });
    expect(
      organizationResult({ auth_domain: "other.cloudflareaccess.com" }, "home.cloudflareaccess.com"),
    ).toMatchObject({
      status: "fail",
      message:
        "the account's team is other.cloudflareaccess.com, not home.cloudflareaccess.com (homecluster:access.teamDomain)",
    });
  });

  it("zoneResult: the configured domain's zone, in the configured account, active", () => {
    const zone = accountBeforeUp().zone as { name: string; status: string; account: { id: string } };
    expect(zoneResult(zone, facts)).toEqual(ok("example.com (fedcba9876543210fedcba9876543210), active"));
    expect(zoneResult({ ...zone, name: "example.org" }, facts).message).toBe(
      "zone fedcba9876543210fedcba9876543210 is example.org, not example.com",
    );
    expect(zoneResult({ ...zone, account: { id: "ffffffffffffffffffffffffffffffff" } }, facts).status).toBe("fail");
    expect(zoneResult({ ...zone, status: "pending" }, facts).status).toBe("warn");
  });

  it("permissionsResult: groups by name on the right scope, nested and wildcard resources, denies", () => {
    const { cloudflare } = facts;
    expect(permissionsResult(policies, cloudflare)).toEqual(
      ok("may Cloudflare Tunnel Write, DNS Write, Zone Read, API Tokens Write and Access: Apps and Policies Write"),
    );
    const allZones: TokenPolicyInfo = {
      effect: "allow",
      permission_groups: [{ name: "DNS Write" }, { name: "Zone Read" }],
      resources: {
        [`com.cloudflare.api.account.${cloudflare.accountId}`]: { "com.cloudflare.api.account.zone.*": "*" },
      },
    };
    expect(permissionsResult([policies[0]!, allZones, policies[2]!], cloudflare).status).toBe("ok");
    const otherZone = {
      ...policies[1]!,
      resources: { "com.cloudflare.api.account.zone.00000000000000000000000000000000": "*" },
    };
    expect(permissionsResult([policies[0]!, otherZone, policies[2]!], cloudflare).message).toBe(
      "the token lacks DNS Write on the zone (the routes' CNAMEs) and Zone Read on the zone (the zone)",
    );
    const deny = { ...policies[0]!, effect: "deny" };
    expect(permissionsResult([...policies, deny], cloudflare).status).toBe("fail");
  });

  const records = (account = healthyAccount()) =>
    new Map(facts.tunnel.hostnames.map((h) => [h, account.records.filter((r) => r.name === h) as DnsRecordInfo[]]));

  it("collisionsResult and existingTunnelResult: foreign records and a taken tunnel name, the stack's own accepted", () => {
    expect(collisionsResult(records(accountBeforeUp()), facts.tunnel)).toEqual(
      ok("no foreign record on 3 routed hostnames"),
    );
    const foreign = records();
    foreign.set("example.com", [{ name: "example.com", type: "A", content: "203.0.113.1", comment: "hand-made" }]);
    expect(collisionsResult(foreign, facts.tunnel).message).toBe(
      "records this stack does not own: example.com A 203.0.113.1",
    );
    const tunnels = healthyAccount().tunnels;
    expect(existingTunnelResult(tunnels, records(), facts).status).toBe("ok");
    expect(existingTunnelResult(tunnels, records(accountBeforeUp()), facts).status).toBe("fail");
    expect(existingTunnelResult([], records(), facts)).toEqual(ok("no tunnel named 'homecluster' yet"));
  });

  it("cnamesResult: every routed hostname a proxied CNAME to the tunnel, with the owner comment", () => {
    expect(cnamesResult(records(), TUNNEL_ID, facts.tunnel).status).toBe("ok");
    const broken = records();
    broken.set("example.com", [
      {
        name: "example.com",
        type: "CNAME",
        content: `${TUNNEL_ID}.cfargotunnel.com`,
        proxied: false,
        comment: RECORD_COMMENT,
      },
    ]);
    broken.set("ssh.example.com", []);
    expect(cnamesResult(broken, TUNNEL_ID, facts.tunnel).message).toBe(
      `example.com is not proxied; ssh.example.com has no record (want a proxied CNAME to ${TUNNEL_ID}.cfargotunnel.com)`,
    );
    const edited = records();
    edited.get("example.com")![0]!.comment = null;
    expect(cnamesResult(edited, TUNNEL_ID, facts.tunnel)).toMatchObject({
      status: "warn",
      message: "example.com lacks this stack's owner comment",
    });
  });

  it("tunnelResult, coloSummary and connectionsResult: what cloudflared tunnel list shows", () => {
    const account = healthyAccount();
    expect(tunnelResult([], "homecluster").status).toBe("fail");
    expect(tunnelResult([...account.tunnels, { ...account.tunnels[0], id: "other" }], "homecluster").status).toBe(
      "fail",
    );
    const connectors = account.connections[TUNNEL_ID]!;
    expect(coloSummary(connectors)).toBe("2xams01, 2xfra06");
    const reconnecting = structuredClone(connectors);
    reconnecting[1]!.conns[0].is_pending_reconnect = true;
    expect(coloSummary(reconnecting)).toBe("1xams01, 2xfra06");
    expect(connectionsResult({ ...account.tunnels[0], status: "degraded" }, connectors, facts.tunnel).status).toBe(
      "warn",
    );
    expect(connectionsResult({ status: "inactive" }, [], facts.tunnel).message).toBe(
      "status inactive, no active connections",
    );
  });

  it("configDriftResult: rules in order, origin options with cloudflared's defaults, remote management", () => {
    const remote = healthyAccount().configurations[TUNNEL_ID] as RemoteConfigInfo;
    expect(configDriftResult(remote, facts.tunnel.config)).toEqual(ok("version 3: 4 rules as the stack sets them"));
    const defaults = structuredClone(remote);
    defaults.config!.originRequest = {};
    expect(configDriftResult(defaults, facts.tunnel.config).status).toBe("ok");
    const extra = structuredClone(remote);
    extra.config!.ingress!.splice(3, 0, { hostname: "old.example.com", service: "http://old:80" });
    expect(configDriftResult(extra, facts.tunnel.config).message).toBe(
      "drifted from the stack: rule 4: old.example.com → http://old:80 (the stack sets (catch-all) → http_status:404); rule 5: (catch-all) → http_status:404 (the stack sets none)",
    );
    expect(configDriftResult({ ...remote, source: "local" }, facts.tunnel.config).status).toBe("fail");
  });

  it("configDriftResult: Access required exactly on the routes behind it, of the team the stack names", () => {
    const remote = healthyAccount().configurations[TUNNEL_ID] as RemoteConfigInfo;
    const open = structuredClone(remote);
    delete open.config!.ingress![2]!.originRequest;
    expect(configDriftResult(open, facts.tunnel.config).message).toBe(
      "drifted from the stack: rule 3: ssh.example.com → ssh://nas.lan:22 (the stack sets ssh.example.com → ssh://nas.lan:22 [Access home])",
    );
    const otherTeam = structuredClone(remote);
    otherTeam.config!.ingress![2]!.originRequest!.access!.teamName = "other";
    expect(configDriftResult(otherTeam, facts.tunnel.config).status).toBe("fail");
    const extraCheck = structuredClone(remote);
    extraCheck.config!.ingress![0]!.originRequest = { access: { required: true, teamName: "home", audTags: ["x"] } };
    expect(configDriftResult(extraCheck, facts.tunnel.config).message).toMatch(
      /^drifted from the stack: rule 1: jellyfin\.example\.com → .* \[Access home\] \(the stack sets jellyfin\.example\.com → [^[]*\)$/,
    );
  });

  it("probeResult: below 500 the path works; 530 is the tunnel, other 5xx what is behind it", () => {
    expect(probeResult(302, 87.4)).toEqual(ok("HTTP 302 in 87 ms"));
    expect(probeResult(530, 120).message).toBe("HTTP 530 in 120 ms: Cloudflare cannot reach the tunnel");
    expect(probeResult(502, 120).message).toBe("HTTP 502 in 120 ms: the tunnel answers but what is behind it fails");
  });
});

describe("the framework", () => {
  const check = (id: string, run: Check<null>["run"], needs?: string[]): Check<null> => ({
    id,
    component: id.split("-")[0]!,
    name: id,
    run,
    ...(needs ? { needs } : {}),
  });

  it("runs checks concurrently, in declared order, skipping those whose needs failed", async () => {
    // a-slow answers only once b-slow has started: run one after the other, it would meet the deadline instead.
    let started!: () => void;
    const bStarted = new Promise<void>((resolve) => (started = resolve));
    const progress: number[] = [];
    const outcomes = await runChecks(
      [
        check("a-slow", async () => (await bStarted, ok("slow"))),
        check("a-gate", async () => {
          throw new CheckError("cannot reach it", { fix: "reach it" });
        }),
        check("b-dependent", async () => ok("never"), ["a-gate"]),
        check("b-chained", async () => ok("never"), ["b-dependent"]),
        check("b-slow", async () => (started(), ok("slow too"))),
        check("c-bug", async () => {
          throw new TypeError("x is undefined\n    at stack");
        }),
      ],
      null,
      { deadline: AbortSignal.timeout(5_000), timeoutSeconds: 5, onProgress: (done) => progress.push(done) },
    );
    expect(outcomes.map((o) => [o.id, o.status, o.message])).toEqual([
      ["a-slow", "ok", "slow"],
      ["a-gate", "fail", "cannot reach it"],
      ["b-dependent", "skip", "skipped: needs a a-gate"],
      ["b-chained", "skip", "skipped: needs b b-dependent"],
      ["b-slow", "ok", "slow too"],
      ["c-bug", "fail", "unexpected error: x is undefined"],
    ]);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    expect(exitCode(outcomes)).toBe(1);
    expect(renderText("doctor", "title", outcomes)).toBe(
      [
        "title",
        "",
        "a",
        "  ok    a-slow  slow",
        "  fail  a-gate  cannot reach it — fix: reach it",
        "",
        "b",
        "  ok    b-slow  slow too",
        "",
        "c",
        "  fail  c-bug   unexpected error: x is undefined",
        "",
        "doctor: 2 failed, 0 warnings, 2 ok, 2 skipped",
        "",
      ].join("\n"),
    );
    expect(JSON.parse(renderJson("doctor", "s", outcomes))).toMatchObject({
      command: "doctor",
      stack: "s",
      ok: false,
      summary: { ok: 2, warn: 0, fail: 2, skip: 2 },
    });
    expect(exitCode(outcomes.filter((o) => o.status !== "fail"))).toBe(0);
  });

  it("ends every check by the deadline", async () => {
    const [outcome] = await runChecks([check("a-hang", () => new Promise(() => undefined))], null, {
      deadline: AbortSignal.timeout(100),
      timeoutSeconds: 0.1,
    });
    expect(outcome).toMatchObject({ status: "fail", message: "no answer within 0.1 s" });
  });

  it("redacts secrets from anything printed", () => {
    expect(redact("401 for token abc123secret", ["abc123secret", undefined])).toBe("401 for token [redacted]");
    expect(redact("context example", ["x"])).toBe("context example");
  });

  it("parses the flags, doctor's --probe included", () => {
    expect(parseArgs(doctor, ["--stack", "lab", "--json", "--probe", "--timeout", "2.5"])).toEqual({
      stack: "lab",
      stackFile: undefined,
      json: true,
      help: false,
      probe: true,
      timeoutSeconds: 2.5,
    });
    expect(parseArgs(doctor, ["--stack"])).toBe("'--stack' needs a value");
  });
});
