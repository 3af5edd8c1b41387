/**
 * What the simulated cluster cannot be, stood in by a loop in the tier's process, each named in the tier's summary:
 * - cilium-operator registers Cilium's CRDs when it starts: here they are created once its Deployment is ready (the
 *   LB IPAM and L2 CRDs from $HOMECLUSTER_ENGINE_CRDS, and a permissive CiliumClusterwideNetworkPolicy);
 * - istiod serves its webhooks from a pod that runs nothing here (pod IPs in 127.2/16 cannot even be Endpoints): each
 *   Istio webhook that fails closed is turned to `failurePolicy: Ignore`, as if istiod answered "allowed";
 * - Cilium's LB IPAM writes a LoadBalancer Service's address into its status (Helm waits for it): here the address
 *   the Service asks for, or the pool's first;
 * - Cloudflare's edge lists a tunnel's connections once cloudflared runs: here one per ready cloudflared pod.
 */
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import type { AccountState } from "../cli/fake-cloudflare";

export const STAND_INS = [
  "cilium-operator's CRD registration (LB IPAM and L2 CRDs as shipped; a permissive CiliumClusterwideNetworkPolicy CRD)",
  "istiod's webhooks (failurePolicy Fail turned to Ignore: nothing can serve them)",
  "LB IPAM's status.loadBalancer.ingress on LoadBalancer Services",
  "the Cloudflare edge's tunnel connections (one per ready cloudflared pod)",
  "the Cloudflare and random providers (Node providers writing to the fake Cloudflare API)",
];

interface Kubeconfig {
  server: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function readKubeconfig(file: string): Kubeconfig {
  const config = parse(fs.readFileSync(file, "utf8"));
  const data = (value: string) => Buffer.from(value, "base64");
  return {
    server: config.clusters[0].cluster.server,
    ca: data(config.clusters[0].cluster["certificate-authority-data"]),
    cert: data(config.users[0].user["client-certificate-data"]),
    key: data(config.users[0].user["client-key-data"]),
  };
}

/** A small Kubernetes REST client: JSON in, JSON out; 404 answers undefined. */
export function kubeClient(file: string) {
  const config = readKubeconfig(file);
  const agent = new https.Agent({ ca: config.ca, cert: config.cert, key: config.key, keepAlive: true });
  return function request(
    method: string,
    route: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<any> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${config.server}${route}`,
        { method, agent, headers: body === undefined ? {} : { "Content-Type": contentType } },
        (response) => {
          let text = "";
          response.on("data", (chunk) => (text += chunk));
          response.on("end", () => {
            if (response.statusCode === 404) return resolve(undefined);
            if ((response.statusCode ?? 500) >= 300)
              return reject(new Error(`${method} ${route}: ${response.statusCode} ${text}`));
            resolve(text ? JSON.parse(text) : undefined);
          });
        },
      );
      req.on("error", reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });
  };
}

export type Kube = ReturnType<typeof kubeClient>;

const CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

/** The CiliumClusterwideNetworkPolicy CRD is not in the CRD folder: a permissive one serves (any spec). */
const CCNP_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "ciliumclusterwidenetworkpolicies.cilium.io" },
  spec: {
    group: "cilium.io",
    scope: "Cluster",
    names: {
      kind: "CiliumClusterwideNetworkPolicy",
      listKind: "CiliumClusterwideNetworkPolicyList",
      plural: "ciliumclusterwidenetworkpolicies",
      singular: "ciliumclusterwidenetworkpolicy",
      shortNames: ["ccnp"],
    },
    versions: [
      {
        name: "v2",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    ],
  },
};

function ciliumCrds(dir: string): Record<string, any>[] {
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  const crds = files.flatMap((f) =>
    parseAllDocuments(fs.readFileSync(path.join(dir, f), "utf8"))
      .map((d) => d.toJSON())
      .filter((o) => o?.kind === "CustomResourceDefinition"),
  );
  return [...crds, CCNP_CRD];
}

const ready = (deployment: any) => (deployment?.status?.readyReplicas ?? 0) > 0;

/** One round of every stand-in; each is idempotent. */
async function round(kube: Kube, crds: Record<string, any>[], account: AccountState, log: (line: string) => void) {
  // cilium-operator: CRDs once its Deployment is ready.
  if (ready(await kube("GET", "/apis/apps/v1/namespaces/kube-system/deployments/cilium-operator"))) {
    for (const crd of crds) {
      if (!(await kube("GET", `${CRD_PATH}/${crd.metadata.name}`))) {
        await kube("POST", CRD_PATH, crd);
        log(`created CRD ${crd.metadata.name}`);
      }
    }
  }
  // istiod's webhooks.
  for (const kind of ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]) {
    const list = await kube("GET", `/apis/admissionregistration.k8s.io/v1/${kind}`);
    for (const configuration of list?.items ?? []) {
      const hooks: any[] = configuration.webhooks ?? [];
      const closed = hooks.filter(
        (h) => h.failurePolicy !== "Ignore" && h.clientConfig?.service?.namespace === "istio-system",
      );
      if (closed.length === 0) continue;
      for (const h of closed) h.failurePolicy = "Ignore";
      await kube("PUT", `/apis/admissionregistration.k8s.io/v1/${kind}/${configuration.metadata.name}`, configuration);
      log(`${kind} ${configuration.metadata.name}: failurePolicy Ignore on ${closed.map((h) => h.name).join(", ")}`);
    }
  }
  // LB IPAM.
  const services = await kube("GET", "/api/v1/services");
  const pools = await kube("GET", "/apis/cilium.io/v2/ciliumloadbalancerippools").catch(() => undefined);
  const firstOfPool = (() => {
    const block = pools?.items?.[0]?.spec?.blocks?.[0];
    if (!block) return undefined;
    // Data only: nothing is ever sent to it.
    return block.start ?? String(block.cidr).split("/")[0];
  })();
  for (const service of services?.items ?? []) {
    if (service.spec.type !== "LoadBalancer" || service.status?.loadBalancer?.ingress?.length) continue;
    const ip = service.spec.loadBalancerIP || service.metadata.annotations?.["lbipam.cilium.io/ips"] || firstOfPool;
    if (!ip) continue;
    const { namespace, name } = service.metadata;
    await kube("PUT", `/api/v1/namespaces/${namespace}/services/${name}/status`, {
      ...service,
      status: { loadBalancer: { ingress: [{ ip, ipMode: "VIP" }] } },
    });
    log(`service ${namespace}/${name}: status.loadBalancer.ingress ${ip}`);
  }
  // The edge: a connection per ready cloudflared pod, on every live tunnel.
  const pods = await kube("GET", "/api/v1/pods?labelSelector=app.kubernetes.io%2Fname%3Dcloudflared");
  const running = (pods?.items ?? []).filter((p: any) =>
    p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"),
  );
  for (const tunnel of account.tunnels.filter((t) => t.deleted_at === null)) {
    tunnel.status = running.length > 0 ? "healthy" : "inactive";
    account.connections[tunnel.id] = running.map((p: any) => ({
      id: p.metadata.uid,
      arch: "linux_amd64",
      config_version: 1,
      run_at: p.status.startTime ?? new Date().toISOString(),
      version: String(p.spec.containers[0].image).split(":").pop(),
      features: ["ha-origin"],
      conns: [
        { colo_name: "lo01", is_pending_reconnect: false, opened_at: p.status.startTime, origin_ip: "127.0.0.1" },
      ],
    }));
  }
}

/** Starts the stand-ins' loop; the returned function stops it. */
export function startStandIns(
  kubeconfig: string,
  crdDir: string,
  account: AccountState,
  logFile: string,
): () => Promise<void> {
  const kube = kubeClient(kubeconfig);
  const crds = ciliumCrds(crdDir);
  const log = (line: string) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await round(kube, crds, account, log).catch((error: Error) => log(`error: ${error.message}`));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
