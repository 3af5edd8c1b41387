/**
 * preflight and doctor end to end, in-process: each run reads test/cli/Pulumi.cli-test.yaml and talks to a fake
 * Kubernetes API (through a kubeconfig in $KUBECONFIG) and a fake Cloudflare API (CLOUDFLARE_BASE_URL), a healthy
 * one and broken copies.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { DEADLINE_GRACE_MS } from "../../cli/checks/runner";
import { DEFAULT_TIMEOUT_SECONDS } from "../../cli/check-command";
import { parseArgs, type Io } from "../../cli/command";
import { loadProgram } from "../support/harness";
import { doctor as doctorCommand, main as doctor } from "../../cli/doctor";
import { main as preflight } from "../../cli/preflight";
import { startFakeCloudflare, type AccountState } from "./fake-cloudflare";
import { startFakeKube, writeKubeconfig, type ClusterState, type FakeServer } from "./fake-kube";
import {
  accountBeforeUp,
  clusterBeforeUp,
  CONTEXT,
  healthyAccount,
  healthyCluster,
  helmSecret,
  STACK,
  readStack,
  STACK_FILE,
  TOKEN,
  TUNNEL_ID,
  variant,
} from "./fixtures";

type Main = (argv: readonly string[], env: Record<string, string | undefined>, io: Io) => Promise<number>;

interface Outcome {
  id: string;
  component: string;
  name: string;
  status: string;
  message: string;
  fix?: string;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** The outcomes, from --json runs. */
  checks: Outcome[];
  check(id: string): Outcome;
  /** The requests the fake Kubernetes API answered. */
  kubeRequests: string[];
  /** The most of them it held at once. */
  kubeMaxInFlight: number;
}

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function run(
  main: Main,
  args: string[],
  world: {
    cluster: ClusterState | "hang";
    account: AccountState;
    token?: string;
    fetch?: typeof fetch;
    /** Whether stdout is a terminal. */
    tty?: boolean;
    /** The kubeconfig's context; default: the stack's. */
    context?: string;
    /** The stack file; default: STACK_FILE. `kubeconfig` turns the fake's kubeconfig file into its value. */
    stackFile?: (kubeconfig: string) => string;
    /** The API server holds each answer until the next request (fake-kube.ts answerOnOverlap). */
    overlap?: boolean;
  },
): Promise<Run> {
  const kube = await startFakeKube(world.cluster, { overlap: world.overlap });
  const cloudflare = await startFakeCloudflare(world.account);
  servers.push(kube, cloudflare);
  const kubeconfig = writeKubeconfig(kube.url, world.context ?? CONTEXT);
  const env = {
    HOME: os.tmpdir(),
    // With a stack file of its own, the stack's homecluster:kubeconfig says where the cluster is.
    ...(world.stackFile ? {} : { KUBECONFIG: kubeconfig }),
    CLOUDFLARE_API_TOKEN: world.token ?? TOKEN,
    CLOUDFLARE_BASE_URL: cloudflare.url,
  };
  const stackFile = world.stackFile?.(kubeconfig) ?? STACK_FILE;
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text), isTTY: world.tty ?? false },
    stderr: { write: (text: string) => (stderr += text) },
    loadProgram,
    ...(world.fetch ? { fetch: world.fetch } : {}),
  };
  const code = await main(["--stack", STACK, "--stack-file", stackFile, ...args], env, io);
  const checks: Outcome[] = args.includes("--json") ? JSON.parse(stdout).checks : [];
  return {
    code,
    stdout,
    stderr,
    checks,
    kubeRequests: kube.requests,
    kubeMaxInFlight: kube.maxInFlight(),
    check: (id) => {
      const found = checks.find((c) => c.id === id);
      if (!found) throw new Error(`no check ${id} in ${checks.map((c) => c.id).join(", ")}`);
      return found;
    },
  };
}

const statuses = (result: Run) => Object.fromEntries(result.checks.map((c) => [c.id, c.status]));
const notOk = (result: Run) => result.checks.filter((c) => c.status !== "ok").map((c) => `${c.id}: ${c.message}`);

describe("preflight and doctor ask the API server concurrently", () => {
  // Its answers wait for the next request: checks run one after another would keep one request in flight.
  it.each([
    ["preflight", preflight, clusterBeforeUp, accountBeforeUp],
    ["doctor", doctor, healthyCluster, healthyAccount],
  ] as const)("%s keeps several requests in flight at the fake API server", async (_name, main, cluster, account) => {
    const result = await run(main, ["--json"], { cluster: await cluster(), account: account(), overlap: true });
    expect(notOk(result).filter((line) => line.startsWith("kube"))).toEqual([]);
    expect(result.kubeMaxInFlight).toBeGreaterThanOrEqual(2);
  });
});

describe("preflight", () => {
  it("passes a cluster and account ready for the first pulumi up, one line per check", async () => {
    const result = await run(preflight, [], { cluster: clusterBeforeUp(), account: accountBeforeUp() });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(
      `preflight of stack cli-test (${path.relative(process.cwd(), STACK_FILE)}): kube context ${CONTEXT}, zone example.com`,
    );
    expect(lines).toContain("Kubernetes");
    expect(lines).toContain("Cloudflare");
    const checkLines = lines.filter((line) => /^ {2}(ok|warn|fail) /.test(line));
    expect(checkLines).toHaveLength(20);
    expect(checkLines.every((line) => line.startsWith("  ok  "))).toBe(true);
    expect(result.stdout).toMatch(
      / {2}ok {4}API server +v1\.34\.2 answers at http:\/\/127\.0\.0\.1:\d+ \(context admin@cli-test\)/,
    );
    expect(result.stdout).toContain("cp1 (control-plane 192.168.1.11) NotReady: waiting for a CNI");
    expect(result.stdout).toContain("media exists");
    expect(result.stdout).toContain("no tunnel named 'homecluster' yet");
    expect(result.stdout).toContain("w1 and w2 take ordinary pods");
    expect(result.stdout).toContain("none of the 22 objects the stack creates exists yet");
    expect(result.stdout).toContain("team home at home.cloudflareaccess.com");
    expect(lines.at(-2)).toBe("preflight: 0 failed, 0 warnings, 20 ok");
  });

  it("shows its progress on a terminal only, and clears it before the report", async () => {
    const world = { cluster: clusterBeforeUp(), account: accountBeforeUp(), tty: true };
    const terminal = await run(preflight, [], world);
    const [progress, report] = terminal.stdout.split("\r\x1b[K");
    expect(progress).toBe(Array.from({ length: 20 }, (_, i) => `\rpreflight: ${i + 1}/20 checks`).join(""));
    expect(report).toMatch(/^preflight of stack cli-test/);
    const json = await run(preflight, ["--json"], world);
    expect(json.stdout.startsWith("{")).toBe(true);
  });

  it("reports a Cilium installed at bootstrap, with kube-proxy and flannel still running", async () => {
    const cluster = clusterBeforeUp();
    cluster.secrets.push(helmSecret("kube-system", "cilium", "cilium", "1.16.5"));
    cluster.daemonSets.push(
      { metadata: { name: "kube-proxy", namespace: "kube-system", labels: { "k8s-app": "kube-proxy" } } },
      { metadata: { name: "kube-flannel-ds", namespace: "kube-flannel", labels: { app: "flannel" } } },
    );
    const result = await run(preflight, ["--json"], { cluster, account: accountBeforeUp() });
    expect(result.code).toBe(1);
    expect(result.check("kube-releases")).toMatchObject({
      status: "warn",
      message: "kube-system/cilium (chart cilium 1.16.5, revision 1, deployed) exists",
    });
    expect(result.check("kube-releases").fix).toContain("adopt it (npm run adopt prints homecluster:adopt");
    expect(result.check("kube-proxy")).toMatchObject({
      status: "fail",
      message: "kube-proxy runs (DaemonSet kube-system/kube-proxy) while Cilium replaces it",
      fix: "set cluster.proxy.disabled: true in the Talos machine config and delete the kube-proxy DaemonSet",
    });
    expect(result.check("kube-cni")).toMatchObject({
      status: "fail",
      message: "another CNI runs: DaemonSet kube-flannel/kube-flannel-ds; Cilium must be the only one",
    });
    expect(result.check("kube-cni").fix).toContain("cluster.network.cni.name: none");
  });

  it("fails on a foreign DNS record on a routed hostname and an existing tunnel of that name", async () => {
    const account = accountBeforeUp();
    account.records.push({ id: "r1", name: "jellyfin.example.com", type: "A", content: "203.0.113.9", proxied: true });
    account.tunnels.push({
      id: "6ff42ae2-765d-4adf-8112-31c55c1551ef",
      name: "homecluster",
      created_at: "2025-03-01T00:00:00Z",
      deleted_at: null,
    });
    const result = await run(preflight, ["--json"], { cluster: clusterBeforeUp(), account });
    expect(result.code).toBe(1);
    expect(result.check("cloudflare-dns-collisions")).toMatchObject({
      status: "fail",
      message: "records this stack does not own: jellyfin.example.com A 203.0.113.9",
    });
    expect(result.check("cloudflare-tunnel-name").message).toBe(
      "a tunnel named 'homecluster' exists (6ff42ae2-765d-4adf-8112-31c55c1551ef, created 2025-03-01): creating it would fail",
    );
    expect(result.check("cloudflare-tunnel-name").fix).toContain("homecluster:tunnel.name");
  });

  it("accepts the stack's own tunnel and records when it has been deployed", async () => {
    const result = await run(preflight, ["--json"], { cluster: clusterBeforeUp(), account: healthyAccount() });
    expect(result.check("cloudflare-tunnel-name")).toMatchObject({
      status: "ok",
      message: `'homecluster' (${TUNNEL_ID}) exists, and this stack's records point to it`,
    });
    expect(result.check("cloudflare-dns-collisions").message).toBe(
      "no foreign record on 3 routed hostnames (3 records already this stack's)",
    );
  });

  it("reports a missing namespace, a node address in the LB pool and missing token permissions", async () => {
    const cluster = clusterBeforeUp();
    cluster.namespaces = cluster.namespaces.filter((ns) => ns.metadata?.name !== "media");
    cluster.nodes[2]!.status.addresses[0].address = "192.168.1.230";
    const account = accountBeforeUp();
    (account.tokenDetails as { policies: unknown[] }).policies.splice(2, 1);
    const result = await run(preflight, ["--json"], { cluster, account });
    expect(result.check("kube-namespaces")).toMatchObject({ status: "fail", fix: "kubectl create namespace media" });
    expect(result.check("kube-namespaces").message).toMatch(
      /^missing: media \(needed by read by mesh-namespace-media, /,
    );
    expect(result.check("kube-lb-pool").message).toBe("192.168.1.230 (node w2) inside the LB pool 192.168.1.224/28");
    expect(result.check("cloudflare-permissions").message).toBe(
      "the token lacks API Tokens Write on the user (minting external-dns' zone-scoped token)",
    );
  });

  it("fails a lone tainted control plane, an object left by an earlier install, an account token and no Zero Trust team", async () => {
    const cluster = clusterBeforeUp();
    cluster.nodes = cluster.nodes.filter((n) => n.metadata?.name === "cp1");
    // Flux installed Istio before: its istio-system and cloudflared's token Secret are there, written by Flux.
    const byFlux = { managedFields: [{ manager: "kustomize-controller" }] };
    cluster.namespaces.push({ ...cluster.namespaces[0]!, metadata: { name: "istio-system", ...byFlux } });
    cluster.secrets.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "cloudflared-token", namespace: "cloudflared", ...byFlux },
    });
    const account = { ...accountBeforeUp(), owner: "account" as const, organization: null };
    const result = await run(preflight, ["--json"], { cluster, account });
    expect(result.code).toBe(1);
    expect(result.check("kube-scheduling")).toEqual({
      id: "kube-scheduling",
      component: "Kubernetes",
      name: "Schedulable nodes",
      status: "fail",
      message:
        "no node takes ordinary pods (cp1: taint node-role.kubernetes.io/control-plane:NoSchedule): Cilium's release would time out and be uninstalled",
      fix: "set cluster.allowSchedulingOnControlPlanes: true in the Talos machine config, or join a worker",
    });
    expect(result.check("kube-objects").message).toBe(
      "Namespace istio-system, Secret cloudflared/cloudflared-token exist already, not made by Pulumi: the first pulumi up stops at them (AlreadyExists), half-way",
    );
    expect(result.check("cloudflare-token-owner").status).toBe("fail");
    expect(result.check("cloudflare-access-team")).toMatchObject({
      status: "fail",
      message: "the account has no Zero Trust organisation (team): Access cannot protect a route",
    });
    expect(result.check("kube-kernel").status).toBe("ok");
  });

  it("is one failure line naming the token when Cloudflare rejects it, and never prints the token", async () => {
    const result = await run(preflight, ["--json"], {
      cluster: clusterBeforeUp(),
      account: accountBeforeUp(),
      token: "wrong-token-value-42",
    });
    expect(result.code).toBe(1);
    const cloudflare = result.checks.filter((c) => c.component === "Cloudflare");
    expect(cloudflare.filter((c) => c.status === "fail")).toEqual([
      {
        id: "cloudflare-token",
        component: "Cloudflare",
        name: "API token",
        status: "fail",
        message: "Cloudflare rejected the token in CLOUDFLARE_API_TOKEN: HTTP 401 (1000 Invalid API Token)",
        fix: "export CLOUDFLARE_API_TOKEN=$(pulumi config get cloudflareApiToken)",
      },
    ]);
    expect(cloudflare.filter((c) => c.status === "skip")).toHaveLength(7);
    expect(result.check("kube-api").status).toBe("ok");
    expect(result.stdout).not.toContain("wrong-token-value-42");

    // Should an API echo the token in an error, the output still never holds it, as text or JSON.
    for (const args of [[], ["--json"]]) {
      const echoed = await run(preflight, args, {
        cluster: clusterBeforeUp(),
        account: { ...accountBeforeUp(), echoRejectedToken: true },
        token: "wrong-token-value-42",
      });
      expect(echoed.stdout).toContain("Invalid API Token (Bearer [redacted])");
      expect(echoed.stdout + echoed.stderr).not.toContain("wrong-token-value-42");
    }
  });

  it("reports a refused connection as refused, whatever the --timeout", async () => {
    // A port of 127.0.0.1 that was just free and is closed again: nothing listens there.
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const { port } = listener.address() as net.AddressInfo;
    await new Promise((resolve) => listener.close(resolve));
    const kubeconfig = writeKubeconfig(`http://127.0.0.1:${port}`, CONTEXT);
    for (const timeout of ["1", "3", "10"]) {
      const result = await run(preflight, ["--timeout", timeout, "--json"], {
        cluster: clusterBeforeUp(),
        account: accountBeforeUp(),
        stackFile: () => variant((config) => (config["homecluster:kubeconfig"] = kubeconfig)),
      });
      expect(result.check("kube-api").message).toBe(
        `cannot reach the API server of kube context '${CONTEXT}' (http://127.0.0.1:${port}): connection refused`,
      );
    }
  });

  it("fails at its --timeout with one line naming the kube context when the API server never answers", async () => {
    const result = await run(preflight, ["--timeout", "0.4"], { cluster: "hang", account: accountBeforeUp() });
    expect(result.code).toBe(1);
    const kubernetes = result.stdout.slice(
      result.stdout.indexOf("\nKubernetes\n"),
      result.stdout.indexOf("\nCloudflare\n"),
    );
    expect(kubernetes.trim().split("\n")).toEqual([
      "Kubernetes",
      expect.stringMatching(
        /^ {2}fail {2}API server +cannot reach the API server of kube context 'admin@cli-test' \(http:\/\/127\.0\.0\.1:\d+\): no answer within 0\.4 s — fix: /,
      ),
    ]);
    expect(result.stdout).toMatch(/preflight: 1 failed, 0 warnings, 8 ok, 11 skipped\n$/);
  });
});

describe("doctor", () => {
  it("passes a healthy stack", async () => {
    const result = await run(doctor, ["--json"], { cluster: await healthyCluster(), account: healthyAccount() });
    expect(notOk(result)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.checks.map((c) => `${c.component}: ${c.name}`)).toEqual([
      "Kubernetes: API server",
      // Each chart's workloads, as versions.ts declares them, then what the component creates beside its release.
      "Cilium: cilium",
      "Cilium: cilium-envoy",
      "Cilium: cilium-operator",
      "Cilium: hubble-relay",
      "Cilium: hubble-ui",
      "Cilium: Encryption",
      "Cilium: LB IPAM pool",
      "Cilium: L2 announcements",
      "Cilium: Objects",
      "Cilium: Gateway address",
      "Istio: istiod",
      "Istio: ztunnel",
      "Istio: istio-cni-node",
      "Istio: istio-ingress",
      "Istio: Mesh namespaces",
      "Istio: Objects",
      "Routes: Routed Services",
      "external-dns: external-dns",
      "external-dns: Log",
      "Cloudflare: API token",
      "Tunnel: cloudflared",
      "Tunnel: Tunnel",
      "Tunnel: Connections",
      "Tunnel: Remote configuration",
      "Tunnel: DNS records",
    ]);
    expect(result.check("workload-kube-system-cilium").message).toBe("ready on all 3 nodes");
    expect(result.check("cilium-encryption").message).toBe("WireGuard encrypts pod traffic between nodes");
    expect(result.check("kube-routes").message).toBe("2 routed Services forward to the port the allow admits");
    expect(result.check("cilium-gateway-address").message).toBe("Service istio-ingress/istio-ingress: 192.168.1.225");
    expect(result.check("istio-enrolment").message).toBe("media and cloudflared carry istio.io/dataplane-mode=ambient");
    expect(result.check("tunnel-connections").message).toBe(
      "status healthy, 2 connectors, connections 2xams01, 2xfra06",
    );
    expect(result.check("tunnel-config").message).toBe("version 3: 4 rules as the stack sets them");
    expect(result.check("tunnel-dns").message).toBe(`3 hostnames: proxied CNAME to ${TUNNEL_ID}.cfargotunnel.com`);
    expect(JSON.parse(result.stdout)).toMatchObject({ command: "doctor", stack: STACK, ok: true });
  });

  it("exits 0 on warnings alone: a degraded tunnel that still has connections", async () => {
    const account = healthyAccount();
    account.tunnels = account.tunnels.map((t) => ({ ...t, status: "degraded" }));
    const result = await run(doctor, [], { cluster: await healthyCluster(), account });
    expect(result.stdout).toMatch(/\n {2}warn {2}Connections +status degraded, 2 connectors/);
    expect(result.stdout).toMatch(/doctor: 0 failed, 1 warning, 25 ok\n$/);
    expect(result.code).toBe(0);
  });

  it("skips the log checks, naming why, when the API server cannot reach the kubelets for logs", async () => {
    const cluster = await healthyCluster();
    // A closed port on this machine: the same refusal a firewalled kubelet gives.
    cluster.kubeletUnreachable = "dial tcp 127.0.0.1:10250: connect: connection refused";
    const result = await run(doctor, ["--json"], { cluster, account: healthyAccount() });
    const skipped = result.checks.filter((c) => c.status === "skip").map((c) => c.id);
    // The healthy stack protects no gateway route, so istiod's log is not read: external-dns' is the one log.
    expect(skipped).toEqual(["external-dns-log"]);
    expect(result.check("external-dns-log").message).toMatch(
      /^the API server cannot read external-dns-\S+'s log from its node's kubelet \(.*connection refused\): read it on the node$/,
    );
    expect(notOk(result).filter((line) => !skipped.some((id) => line.startsWith(`${id}:`)))).toEqual([]);
    expect(result.code).toBe(0);
  });

  it("fails when ztunnel is missing on a node", async () => {
    const cluster = await healthyCluster();
    cluster.pods = cluster.pods.filter((p) => !(p.metadata?.labels?.app === "ztunnel" && p.spec.nodeName === "w2"));
    const result = await run(doctor, ["--json"], { cluster, account: healthyAccount() });
    expect(result.code).toBe(1);
    expect(notOk(result)).toEqual(["workload-istio-system-ztunnel: missing on w2"]);
    expect(result.check("workload-istio-system-ztunnel").fix).toBe(
      "kubectl -n istio-system describe daemonset ztunnel",
    );
  });

  it("fails when the tunnel has no connections", async () => {
    const account = healthyAccount();
    account.tunnels[0]!.status = "down";
    account.connections[TUNNEL_ID] = [];
    const result = await run(doctor, ["--json"], { cluster: await healthyCluster(), account });
    expect(result.code).toBe(1);
    expect(notOk(result)).toEqual(["tunnel-connections: status down, no active connections"]);
    expect(result.check("tunnel-connections").fix).toContain("kubectl -n cloudflared logs deploy/cloudflared");
  });

  it("fails when the remote tunnel configuration drifted", async () => {
    const account = healthyAccount();
    const config = account.configurations[TUNNEL_ID]!.config;
    config.ingress[0].service = "http://jellyfin.media.svc.cluster.local:8096";
    config.originRequest.noTLSVerify = true;
    const result = await run(doctor, ["--json"], { cluster: await healthyCluster(), account });
    expect(notOk(result)).toEqual([
      "tunnel-config: drifted from the stack: rule 1: jellyfin.example.com → http://jellyfin.media.svc.cluster.local:8096 (the stack sets jellyfin.example.com → http://istio-ingress.istio-ingress.svc.cluster.local:80); originRequest.noTLSVerify true (the stack sets false)",
    ]);
  });

  it("fails on a foreign record where a routed hostname's CNAME should be", async () => {
    const account = healthyAccount();
    account.records = account.records.filter((r) => r.name !== "ssh.example.com");
    account.records.push({
      id: "r9",
      name: "ssh.example.com",
      type: "A",
      content: "203.0.113.9",
      proxied: false,
      comment: null,
    });
    const result = await run(doctor, ["--json"], { cluster: await healthyCluster(), account });
    expect(notOk(result)).toEqual([
      `tunnel-dns: ssh.example.com has A (want a proxied CNAME to ${TUNNEL_ID}.cfargotunnel.com)`,
    ]);
  });

  it("quotes external-dns' error line, and reports drifted mesh policies", async () => {
    const cluster = await healthyCluster();
    const [key] = Object.keys(cluster.logs);
    cluster.logs[key!] +=
      'time="2026-01-01T10:02:00Z" level=error msg="failed to sync: Authentication error (10000)"\n';
    const strict = cluster.custom["security.istio.io/v1/peerauthentications"]![0]!;
    strict.spec.mtls.mode = "PERMISSIVE";
    const result = await run(doctor, ["--json"], { cluster, account: healthyAccount() });
    expect(result.check("external-dns-log").message).toBe(
      `Cloudflare rejects its token: ${key!.split("/")[1]}: "time="2026-01-01T10:02:00Z" level=error msg="failed to sync: Authentication error (10000)""`,
    );
    expect(result.kubeRequests).toContainEqual(
      expect.stringMatching(
        /^GET \/api\/v1\/namespaces\/external-dns\/pods\/external-dns-[\w-]+\/log\?.*container=external-dns/,
      ),
    );
    expect(result.check("istio-objects")).toMatchObject({
      status: "fail",
      message: "not as the stack sets it: PeerAuthentication istio-system/default",
    });
  });

  it("fails a routed Service that forwards elsewhere, and WireGuard off", async () => {
    const cluster = await healthyCluster();
    const jellyfin = cluster.services.find((s) => s.metadata?.name === "jellyfin")!;
    (jellyfin.spec as { ports: { targetPort: unknown }[] }).ports[0]!.targetPort = 8080;
    cluster.others.find((o) => o.metadata?.name === "cilium-config")!.data = { "enable-wireguard": "false" };
    const result = await run(doctor, ["--json"], { cluster, account: healthyAccount() });
    expect(result.code).toBe(1);
    expect(result.check("kube-routes")).toMatchObject({
      status: "fail",
      message:
        "homecluster:routes[0] (jellyfin.example.com): Service media/jellyfin forwards port 8096 to 8080, the allow admits 8096: every request is denied",
      fix: "set targetPort: 8080 on homecluster:routes[0], then pulumi up",
    });
    expect(result.check("cilium-encryption").message).toBe(
      "WireGuard is off: cloudflared's requests cross to the gateway in plaintext",
    );
    expect(notOk(result).map((line) => line.split(":")[0])).toEqual(["cilium-encryption", "kube-routes"]);
  });

  it("fails when istiod cannot fetch Access's keys for a protected gateway host, and passes once it has them", async () => {
    // jellyfin behind Access: the gateway then checks Access's JWTs with the keys istiod fetches.
    const protectedVariant = (kubeconfig?: string) =>
      variant((config) => {
        (config["homecluster:routes"] as Record<string, unknown>[])[0]!["access"] = "admins";
        if (kubeconfig) config["homecluster:kubeconfig"] = kubeconfig;
      });
    const { facts: protectedFacts } = await readStack({ stackFile: protectedVariant() });
    const cluster = await healthyCluster(protectedFacts);
    const istiodLog = Object.keys(cluster.logs).find((k) => k.startsWith("istio-system/"))!;
    const healthy = await run(doctor, ["--json"], { cluster, account: healthyAccount(), stackFile: protectedVariant });
    expect(healthy.check("istio-access-keys")).toMatchObject({
      name: "Access keys (home.cloudflareaccess.com)",
      status: "ok",
      message: `no such line in the last 1000 lines of ${istiodLog.split("/")[1]}`,
    });
    cluster.logs[istiodLog] +=
      '2026-01-01T10:05:00.000000Z\terror\tmodel\tFailed to fetch public key from jwks URI "https://home.cloudflareaccess.com/cdn-cgi/access/certs": dial tcp: i/o timeout\n';
    const failing = await run(doctor, ["--json"], { cluster, account: healthyAccount(), stackFile: protectedVariant });
    expect(failing.check("istio-access-keys")).toMatchObject({
      status: "fail",
      message: expect.stringMatching(
        /^istiod cannot fetch Access's signing keys, so every protected host answers 401: /,
      ),
    });
  });

  it("probes each routed hostname over HTTPS with --probe", async () => {
    const requested: string[] = [];
    const fakeFetch = async (url: string | URL | Request) => {
      requested.push(String(url));
      return new Response(null, { status: String(url).includes("ssh.") ? 530 : 200 });
    };
    const result = await run(doctor, ["--json", "--probe"], {
      cluster: await healthyCluster(),
      account: healthyAccount(),
      fetch: fakeFetch as typeof fetch,
    });
    expect(requested.sort()).toEqual([
      "https://example.com/",
      "https://jellyfin.example.com/",
      "https://ssh.example.com/",
    ]);
    expect(result.check("probe-jellyfin.example.com").status).toBe("ok");
    expect(result.check("probe-ssh.example.com").message).toMatch(
      /^HTTP 530 in \d+ ms: Cloudflare cannot reach the tunnel$/,
    );
  });

  it("finds the cluster through homecluster:kubeconfig as the provider does: a path, or the kubeconfig itself", async () => {
    const asPath = await run(preflight, ["--json"], {
      cluster: clusterBeforeUp(),
      account: accountBeforeUp(),
      stackFile: (kubeconfig) => variant((config) => (config["homecluster:kubeconfig"] = kubeconfig)),
    });
    expect(asPath.check("kube-api").status).toBe("ok");
    const asJson = await run(preflight, ["--json"], {
      cluster: clusterBeforeUp(),
      account: accountBeforeUp(),
      stackFile: (kubeconfig) =>
        variant(
          (config) =>
            (config["homecluster:kubeconfig"] = JSON.stringify(parseYaml(fs.readFileSync(kubeconfig, "utf8")))),
        ),
    });
    expect(asJson.check("kube-api").status).toBe("ok");
    const missing = await run(preflight, ["--json"], {
      cluster: clusterBeforeUp(),
      account: accountBeforeUp(),
      stackFile: () => variant((config) => (config["homecluster:kubeconfig"] = "/nonexistent/kubeconfig")),
    });
    expect(missing.check("kube-api")).toMatchObject({
      status: "fail",
      message: `cannot load the kubeconfig /nonexistent/kubeconfig for kube context '${CONTEXT}': no such file`,
    });
  });

  it("skips the cluster's checks behind one line when the kube context is not in the kubeconfig", async () => {
    const result = await run(doctor, ["--json"], {
      cluster: await healthyCluster(),
      account: healthyAccount(),
      context: "someone-else",
    });
    expect(result.check("kube-api")).toMatchObject({
      status: "fail",
      message: expect.stringMatching(/^kube context 'admin@cli-test' is not in \/.*\/kubeconfig$/),
    });
    const byStatus = Object.entries(statuses(result));
    expect(byStatus.filter(([, status]) => status === "fail").map(([id]) => id)).toEqual(["kube-api"]);
    expect(byStatus.filter(([, status]) => status === "skip")).toHaveLength(20);
    expect(result.check("tunnel-connections").status).toBe("ok");
  });
});

describe("both commands", () => {
  it("print a config error as one line and exit 1", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-cli-"));
    const broken = path.join(dir, "Pulumi.broken.yaml");
    fs.writeFileSync(
      broken,
      fs.readFileSync(STACK_FILE, "utf8").replace("cidr: 192.168.1.224/28", "cidr: 10.96.0.0/28"),
    );
    const syntax = path.join(dir, "Pulumi.syntax.yaml");
    fs.writeFileSync(syntax, "config:\n  homecluster:domain: example.com\n   homecluster:kubeContext: x\n");
    const outputs = await Promise.all(
      [broken, syntax, path.join(dir, "Pulumi.missing.yaml")].map(async (file) => {
        let stderr = "";
        const code = await preflight(
          ["--stack-file", file],
          {},
          {
            stdout: { write: () => true },
            stderr: { write: (text: string) => (stderr += text) },
            loadProgram,
          },
        );
        return { code, stderr };
      }),
    );
    expect(outputs).toEqual([
      {
        code: 1,
        stderr:
          "error: Invalid configuration: homecluster:cilium.lbPool[0]: 10.96.0.0/28 overlaps homecluster:network.serviceCidr (10.96.0.0/12); the LB pool must be outside the pod and service networks; homecluster:istio.gateway.loadBalancerIP: 192.168.1.225 is not inside homecluster:cilium.lbPool\n",
      },
      { code: 1, stderr: `error: ${syntax}:2:23: Nested mappings are not allowed in compact mappings\n` },
      { code: 1, stderr: `error: ${path.join(dir, "Pulumi.missing.yaml")}: no such file\n` },
    ]);
  });

  it("print their usage with --help", async () => {
    let stdout = "";
    const io: Io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } };
    expect(await doctor(["--help"], {}, io)).toBe(0);
    expect(stdout).toMatch(
      /^usage: npm run -s doctor -- \[--stack NAME\] \[--stack-file FILE\] \[--timeout SECONDS\] \[--probe\] \[--json\]\n/,
    );
    expect(stdout).toContain(
      "CLOUDFLARE_API_TOKEN (export CLOUDFLARE_API_TOKEN=$(pulumi config get cloudflareApiToken))",
    );
  });

  it("reject unknown options with their usage and exit 2", async () => {
    let stderr = "";
    const io: Io = { stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) } };
    expect(await preflight(["--probe"], {}, io)).toBe(2);
    expect(stderr).toMatch(/^error: unknown option '--probe'\n\nusage: npm run -s preflight -- /);
    stderr = "";
    expect(await doctor(["--timeout", "0"], {}, io)).toBe(2);
    expect(stderr).toMatch(
      /^error: --timeout takes a number of seconds above 0\n\nusage: npm run -s doctor -- .*\[--probe\]/,
    );
  });

  it("end by the default deadline early enough for a 15 s budget", () => {
    // The in-process runs above end at --timeout plus the grace; `npm run doctor` starts in about 2 s here (ts-node, the
    // Pulumi SDK, both clients), and 3 s are left for it.
    expect(DEFAULT_TIMEOUT_SECONDS + DEADLINE_GRACE_MS / 1000).toBeLessThanOrEqual(12);
    expect(parseArgs(doctorCommand, [])).toMatchObject({ timeoutSeconds: DEFAULT_TIMEOUT_SECONDS });
  });
});
