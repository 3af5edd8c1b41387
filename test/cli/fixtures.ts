/**
 * Clusters and Cloudflare accounts for the CLI's tests, in the APIs' documented shapes, for the stack in
 * Pulumi.cli-test.yaml: a three-node Talos cluster before `pulumi up` (preflight) and after it (doctor), and the
 * account in both states. The workload names and labels are the upstream charts' own, written out here rather than
 * taken from the CLI, so the tests also check what the CLI derives. Tests break a copy (`structuredClone`).
 * The stack's own objects in the healthy cluster are the program's (its offline run), with what Cloudflare computes
 * (an Access application's `aud`) filled in.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { parse, stringify } from "yaml";
import { resourceOf } from "../../cli/checks/kubernetes/objects";
import { COMPUTED, type StackFacts } from "../../cli/stack/facts";
import { loadStack, type LoadOptions, type Stack } from "../../cli/stack/load";
import type { AccountState } from "./fake-cloudflare";
import type { ClusterState } from "./fake-kube";

export const STACK_FILE = path.join(__dirname, "Pulumi.cli-test.yaml");
export const STACK = "cli-test";
export const CONTEXT = "admin@cli-test";
export const ACCOUNT_ID = "0123456789abcdef0123456789abcdef";
export const ZONE_ID = "fedcba9876543210fedcba9876543210";
export const TUNNEL_ID = "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415";
export const TOKEN = "cf-test-token-0123456789";
export const NODES = [
  { name: "cp1", ip: "192.168.1.11" },
  { name: "w1", ip: "192.168.1.12" },
  { name: "w2", ip: "192.168.1.13" },
];
/** The owner comment on this stack's records. */
export const RECORD_COMMENT = "Cloudflare Tunnel route of Pulumi stack homecluster/cli-test; do not edit by hand";

/**
 * The harness' loader, imported only when a test reads the stack: the harness imports vitest, and npm run bench builds
 * these worlds outside it.
 */
const loadUnderTest = async () => (await import("../support/harness.js")).loadProgram();

/** A stack read through the CLI's door, the program run offline under this test run's module loader. */
export const readStack = (options: Partial<LoadOptions> = {}): Promise<Stack> =>
  loadStack({ stack: STACK, stackFile: STACK_FILE, load: loadUnderTest, ...options });

let testStack: Promise<Stack> | undefined;
/** The test stack's facts, read once. */
export const facts = async (): Promise<StackFacts> => (await (testStack ??= readStack())).facts;

/** The test stack with `change` applied to its config, written to a file of its own. */
export function variant(change: (config: Record<string, unknown>) => void): string {
  const document = parse(fs.readFileSync(STACK_FILE, "utf8")) as { config: Record<string, unknown> };
  change(document.config);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-stack-")), "Pulumi.variant.yaml");
  fs.writeFileSync(file, stringify(document));
  return file;
}

const READY_SINCE = "2026-01-01T00:00:00Z";

/** The taint the node lifecycle controller sets while a node is NotReady (no CNI yet, say). */
export const NOT_READY_TAINT = { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" };
/** Talos and kubeadm taint control-plane nodes against ordinary pods. */
export const CONTROL_PLANE_TAINT = { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" };

export function node(name: string, ip: string, ready: { status: string; message: string }) {
  const controlPlane = name.startsWith("cp");
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        "kubernetes.io/hostname": name,
        ...(controlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {}),
      },
    },
    spec: {
      taints: [...(controlPlane ? [CONTROL_PLANE_TAINT] : []), ...(ready.status === "True" ? [] : [NOT_READY_TAINT])],
    },
    status: {
      conditions: [
        {
          type: "Ready",
          ...ready,
          reason: "KubeletReady",
          lastHeartbeatTime: READY_SINCE,
          lastTransitionTime: READY_SINCE,
        },
      ],
      addresses: [
        { type: "InternalIP", address: ip },
        { type: "Hostname", address: name },
      ],
      nodeInfo: {
        kubeletVersion: "v1.34.2",
        kernelVersion: "6.12.57-talos",
        osImage: "Talos (v1.11.5)",
        architecture: "amd64",
      },
    },
  };
}

export const namespace = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels: { "kubernetes.io/metadata.name": name, ...labels } },
  spec: { finalizers: ["kubernetes"] },
  status: { phase: "Active" },
});

export function pod(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  nodeName: string,
  ready = true,
  container = name.replace(/-.*$/, ""),
) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels },
    spec: { nodeName, containers: [{ name: container }] },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      containerStatuses: [
        {
          name: container,
          ready,
          restartCount: ready ? 0 : 7,
          state: ready ? { running: { startedAt: READY_SINCE } } : { waiting: { reason: "CrashLoopBackOff" } },
        },
      ],
    },
  };
}

export function daemonSet(namespace: string, name: string, labels: Record<string, string>) {
  const nodes = NODES.length;
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace, labels },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels } } },
    status: {
      currentNumberScheduled: nodes,
      desiredNumberScheduled: nodes,
      numberReady: nodes,
      numberAvailable: nodes,
      numberMisscheduled: 0,
      updatedNumberScheduled: nodes,
      observedGeneration: 1,
    },
  };
}

export function deployment(namespace: string, name: string, labels: Record<string, string>, replicas = 1) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels } } },
    status: {
      replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      updatedReplicas: replicas,
      observedGeneration: 1,
      conditions: [{ type: "Available", status: "True" }],
    },
  };
}

/** A node agent: the DaemonSet and one ready pod per node. */
function agent(namespace: string, name: string, labels: Record<string, string>) {
  return {
    daemonSet: daemonSet(namespace, name, labels),
    pods: NODES.map((n, i) => pod(namespace, `${name}-${"abc"[i]}x7k2`, labels, n.name, true, name)),
  };
}

/** A Deployment and its ready pods, spread over the nodes. */
function workload(namespace: string, name: string, labels: Record<string, string>, replicas = 1) {
  return {
    deployment: deployment(namespace, name, labels, replicas),
    pods: Array.from({ length: replicas }, (_, i) =>
      pod(namespace, `${name}-7d9f8-${i}q`, labels, NODES[i % NODES.length]!.name, true, name),
    ),
  };
}

/** A Helm 3 release Secret: `data.release` is base64(base64(gzip(release JSON))), as the API returns it. */
export function helmSecret(
  namespace: string,
  release: string,
  chart: string,
  version: string,
  status = "deployed",
  config: Record<string, unknown> = {},
) {
  const json = JSON.stringify({
    name: release,
    namespace,
    version: 1,
    config,
    info: { status, first_deployed: READY_SINCE, last_deployed: READY_SINCE, description: "Install complete" },
    chart: { metadata: { name: chart, version, appVersion: version } },
  });
  const helmEncoded = gzipSync(Buffer.from(json)).toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: `sh.helm.release.v1.${release}.v1`,
      namespace,
      labels: { name: release, owner: "helm", status, version: "1" },
    },
    type: "helm.sh/release.v1",
    data: { release: Buffer.from(helmEncoded).toString("base64") },
  };
}

const VERSION = {
  major: "1",
  minor: "34",
  gitVersion: "v1.34.2",
  gitCommit: "0123456",
  gitTreeState: "clean",
  buildDate: "2025-11-11T00:00:00Z",
  goVersion: "go1.24.9",
  compiler: "gc",
  platform: "linux/amd64",
};

/** Talos with `cluster.network.cni: none` and no kube-proxy, before the first `pulumi up`: nodes wait for a CNI. */
export function clusterBeforeUp(): ClusterState {
  const waiting = {
    status: "False",
    message:
      "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
  };
  return {
    version: VERSION,
    nodes: NODES.map((n) => node(n.name, n.ip, waiting)),
    namespaces: ["default", "kube-system", "kube-public", "kube-node-lease", "media"].map((n) => namespace(n)),
    daemonSets: [],
    deployments: [deployment("kube-system", "coredns", { "k8s-app": "kube-dns" }, 2)],
    pods: [],
    secrets: [],
    services: [],
    others: [],
    custom: {},
    logs: {},
  };
}

/** A Service of an app the routes reach, and its pod: `port` forwarded to the container's `targetPort`. */
function app(namespace: string, name: string, port: number, targetPort: number | string, containerPort: number) {
  const labels = { "app.kubernetes.io/name": name };
  return {
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace },
      spec: { type: "ClusterIP", selector: labels, ports: [{ name: "http", port, targetPort, protocol: "TCP" }] },
    },
    pod: {
      ...pod(namespace, `${name}-5c8d7-x2k4p`, labels, NODES[1]!.name, true, name),
      spec: {
        nodeName: NODES[1]!.name,
        containers: [{ name, ports: [{ name: "http", containerPort, protocol: "TCP" }] }],
      },
    },
  };
}

/** The routed apps of the test stack, ready and forwarding to the ports the routes' allows admit. */
export function routedApps() {
  return [app("media", "jellyfin", 8096, 8096, 8096), app("media", "homepage", 3000, "http", 3000)];
}

const ambient = { "istio.io/dataplane-mode": "ambient" };

/** The cluster after `pulumi up`, everything healthy. */
/** The cluster after `pulumi up` of the test stack, or of the stack whose facts are given (a variant's). */
export async function healthyCluster(stackFacts?: StackFacts): Promise<ClusterState> {
  const agents = [
    agent("kube-system", "cilium", { "k8s-app": "cilium" }),
    agent("kube-system", "cilium-envoy", { "k8s-app": "cilium-envoy" }),
    agent("istio-system", "ztunnel", { app: "ztunnel" }),
    agent("istio-system", "istio-cni-node", { "k8s-app": "istio-cni-node" }),
  ];
  const workloads = [
    workload("kube-system", "cilium-operator", { "io.cilium/app": "operator", name: "cilium-operator" }),
    workload("kube-system", "hubble-relay", { "k8s-app": "hubble-relay" }),
    workload("kube-system", "hubble-ui", { "k8s-app": "hubble-ui" }),
    workload("istio-system", "istiod", { istio: "pilot" }),
    workload("istio-ingress", "istio-ingress", { app: "istio-ingress", istio: "ingressgateway" }, 2),
    workload("external-dns", "external-dns", {
      "app.kubernetes.io/name": "external-dns",
      "app.kubernetes.io/instance": "external-dns",
    }),
    workload("cloudflared", "cloudflared", { "app.kubernetes.io/name": "cloudflared" }, 2),
  ];
  const pods = (name: string) => workloads.find((w) => w.deployment.metadata.name === name)!.pods;
  const apps = routedApps();
  return {
    version: VERSION,
    nodes: NODES.map((n) => node(n.name, n.ip, { status: "True", message: "kubelet is posting ready status" })),
    namespaces: [
      ...["default", "kube-system", "istio-system", "istio-ingress", "external-dns"].map((n) => namespace(n)),
      namespace("media", ambient),
      namespace("cloudflared", { ...ambient, "pod-security.kubernetes.io/enforce": "restricted" }),
    ],
    daemonSets: agents.map((a) => a.daemonSet),
    deployments: workloads.map((w) => w.deployment),
    pods: [...agents, ...workloads].flatMap((w) => w.pods).concat(apps.map((a) => a.pod)),
    secrets: [helmSecret("kube-system", "cilium", "cilium", "1.20.0")],
    services: [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "istio-ingress", namespace: "istio-ingress" },
        spec: { type: "LoadBalancer", ports: [{ name: "http2", port: 80, targetPort: 80, protocol: "TCP" }] },
        status: { loadBalancer: { ingress: [{ ip: "192.168.1.225", ipMode: "VIP" }] } },
      },
      ...apps.map((a) => a.service),
    ],
    others: [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "cilium-config", namespace: "kube-system" },
        data: { "cni-exclusive": "false", "enable-wireguard": "true", "kube-proxy-replacement": "true" },
      },
    ],
    custom: stackObjects(stackFacts ?? (await facts())),
    logs: {
      [`external-dns/${pods("external-dns")[0]!.metadata.name}`]: [
        'time="2026-01-01T10:00:00Z" level=info msg="Instantiating new Kubernetes client"',
        'time="2026-01-01T10:00:01Z" level=info msg="Using inCluster-config based on serviceaccount-token"',
        'time="2026-01-01T10:01:00Z" level=info msg="All records are already up to date"',
        "",
      ].join("\n"),
      [`istio-system/${pods("istiod")[0]!.metadata.name}`]: [
        "2026-01-01T10:00:00.000000Z\tinfo\tads\tADS: new connection for node:istio-ingress-7d9f8-0q.istio-ingress-1",
        '2026-01-01T10:00:01.000000Z\tinfo\tmodel\tUpdated cached JWT public key from "https://home.cloudflareaccess.com/cdn-cgi/access/certs"',
        "",
      ].join("\n"),
    },
  };
}

/** The `aud` tag Cloudflare gives the test stack's one protected application. */
export const SSH_AUD = "b3d8e1e1c5d0a9d3f7b2c8e4a6f1d0c9";

/** Each value the stack computes before `up` as Cloudflare would fill it in. */
function filledIn(value: unknown): unknown {
  if (value === COMPUTED) return SSH_AUD;
  if (Array.isArray(value)) return value.map(filledIn);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, filledIn(v)]));
  }
  return value;
}

/**
 * The stack's own Istio and Cilium objects as the API lists them: the program's, as the CLI reads them off its graph;
 * what is tested with them is that doctor finds each one and notices an edit. The LB pool carries its status.
 */
function stackObjects(stackFacts: StackFacts): ClusterState["custom"] {
  const out: ClusterState["custom"] = {};
  for (const object of stackFacts.customObjects) {
    const { group, version, plural } = resourceOf(object.apiVersion, object.kind);
    const key = `${group}/${version}/${plural}`;
    const listed = filledIn(structuredClone(object)) as (typeof out)[string][number];
    if (object.kind === "CiliumLoadBalancerIPPool") {
      listed.status = {
        conditions: [
          { type: "cilium.io/IPsAvailable", status: "True", message: "15" },
          { type: "cilium.io/PoolConflict", status: "False" },
        ],
      };
    }
    out[key] = [...(out[key] ?? []), listed];
  }
  return out;
}

const TUNNEL_CONFIG = {
  ingress: [
    {
      hostname: "jellyfin.example.com",
      service: "http://istio-ingress.istio-ingress.svc.cluster.local:80",
      originRequest: {},
    },
    { hostname: "example.com", service: "http://istio-ingress.istio-ingress.svc.cluster.local:80", originRequest: {} },
    // ssh is behind Access: cloudflared requires the token of its application.
    {
      hostname: "ssh.example.com",
      service: "ssh://nas.lan:22",
      originRequest: { access: { required: true, teamName: "home", audTags: [SSH_AUD] } },
    },
    { service: "http_status:404" },
  ],
  originRequest: { connectTimeout: 30, http2Origin: false, noTLSVerify: false },
};

const tunnelRecord = (name: string) => ({
  id: `rec-${name}`,
  zone_id: ZONE_ID,
  zone_name: "example.com",
  name,
  type: "CNAME",
  content: `${TUNNEL_ID}.cfargotunnel.com`,
  proxiable: true,
  proxied: true,
  ttl: 1,
  comment: RECORD_COMMENT,
  tags: [],
  settings: {},
  meta: {},
  created_on: READY_SINCE,
  modified_on: READY_SINCE,
});

/** The account before the first `pulumi up`: a valid token, no tunnel, no records on the routed hostnames. */
export function accountBeforeUp(): AccountState {
  return {
    token: TOKEN,
    verify: { id: "ed17574386854bf78a67040be0a770b0", status: "active" },
    tokenDetails: {
      id: "ed17574386854bf78a67040be0a770b0",
      name: "homecluster pulumi",
      status: "active",
      issued_on: READY_SINCE,
      modified_on: READY_SINCE,
      policies: [
        {
          id: "p1",
          effect: "allow",
          resources: { [`com.cloudflare.api.account.${ACCOUNT_ID}`]: "*" },
          permission_groups: [
            { id: "c07321b023e944ff818fec44d8203567", name: "Cloudflare Tunnel Write" },
            // A synthetic id: the checks match permission groups by name.
            { id: "00000000000000000000000000a0c355", name: "Access: Apps and Policies Write" },
          ],
        },
        {
          id: "p2",
          effect: "allow",
          resources: { [`com.cloudflare.api.account.zone.${ZONE_ID}`]: "*" },
          permission_groups: [
            { id: "4755a26eedb94da69e1066d98aa820be", name: "DNS Write" },
            { id: "c8fed203ed3043cba015a93ad1616f1f", name: "Zone Read" },
          ],
        },
        {
          id: "p3",
          effect: "allow",
          resources: { "com.cloudflare.api.user.9a7806061c88ada191ed06f989cc3dac": "*" },
          permission_groups: [{ id: "686d18d5ac6c441c867cbf6771e58a0a", name: "API Tokens Write" }],
        },
      ],
    },
    zone: {
      id: ZONE_ID,
      name: "example.com",
      status: "active",
      paused: false,
      type: "full",
      account: { id: ACCOUNT_ID, name: "Home" },
      name_servers: ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
    },
    account: { id: ACCOUNT_ID, name: "Home", type: "standard", created_on: READY_SINCE },
    organization: {
      name: "home",
      auth_domain: "home.cloudflareaccess.com",
      login_design: {},
      is_ui_read_only: false,
      created_at: READY_SINCE,
      updated_at: READY_SINCE,
    },
    tunnels: [],
    connections: {},
    configurations: {},
    records: [
      // external-dns' own record elsewhere in the zone: no concern of the tunnel's hostnames.
      {
        id: "rec-nas",
        name: "nas.example.com",
        type: "A",
        content: "192.168.1.226",
        proxied: false,
        ttl: 1,
        comment: null,
      },
    ],
  };
}

/** The account after `pulumi up`: the tunnel healthy with two connectors, its config and CNAMEs the stack's. */
export function healthyAccount(): AccountState {
  const account = accountBeforeUp();
  const connector = (id: string, colos: string[]) => ({
    id,
    arch: "linux_amd64",
    config_version: 3,
    run_at: READY_SINCE,
    version: "2026.8.2",
    features: ["ha-origin"],
    conns: colos.map((colo, i) => ({
      id: `${id}-${i}`,
      client_id: id,
      client_version: "2026.8.2",
      colo_name: colo,
      is_pending_reconnect: false,
      opened_at: READY_SINCE,
      origin_ip: "203.0.113.7",
      uuid: `${id}-${i}`,
    })),
  });
  return {
    ...account,
    tunnels: [
      {
        id: TUNNEL_ID,
        account_tag: ACCOUNT_ID,
        name: "homecluster",
        status: "healthy",
        tun_type: "cfd_tunnel",
        config_src: "cloudflare",
        remote_config: true,
        created_at: READY_SINCE,
        deleted_at: null,
        conns_active_at: READY_SINCE,
        conns_inactive_at: null,
        metadata: {},
        connections: [],
      },
    ],
    connections: { [TUNNEL_ID]: [connector("c1", ["ams01", "fra06"]), connector("c2", ["ams01", "fra06"])] },
    configurations: {
      [TUNNEL_ID]: {
        account_id: ACCOUNT_ID,
        tunnel_id: TUNNEL_ID,
        version: 3,
        source: "cloudflare",
        created_at: READY_SINCE,
        config: structuredClone(TUNNEL_CONFIG),
      },
    },
    records: [...account.records, ...["jellyfin.example.com", "ssh.example.com", "example.com"].map(tunnelRecord)],
  };
}
