/**
 * What the Cilium component creates beside its release: the LB IPAM pool and the L2 announcement policy (found by
 * their spec), and the address the gateway's LoadBalancer Service gets from them.
 */
import type { ExpectedObject, StackFacts } from "../../stack/facts";
import { fail, ok, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { KUBE_API } from "./cluster";
import { listKind, matches, type CustomObject, type Meta } from "./objects";

const COMPONENT = "Cilium";

/** The object of `expected`'s kind whose spec holds everything expected's does. */
function findBySpec(objects: readonly CustomObject[], expected: ExpectedObject): CustomObject | undefined {
  return objects.find((object) => matches(expected.spec, object.spec));
}

const missing = (objects: readonly CustomObject[], expected: ExpectedObject, what: string) =>
  fail(
    objects.length === 0
      ? `no ${expected.kind} exists`
      : `no ${expected.kind} has ${what} (found: ${objects.map((o) => o.metadata?.name).join(", ")})`,
    "pulumi up (cilium-operator registers the CRD: is it running?)",
  );

export function lbPoolObjectResult(pools: readonly CustomObject[], pool: StackFacts["cilium"]["lbPool"]): Result {
  const found = findBySpec(pools, pool.object);
  if (!found) return missing(pools, pool.object, `the blocks ${pool.description}`);
  const conflict = found.status?.conditions?.find((c) => c.type === "cilium.io/PoolConflict" && c.status === "True");
  return conflict
    ? fail(
        `${found.metadata?.name} conflicts with another pool: ${conflict.message ?? conflict.reason ?? ""}`,
        "make homecluster:cilium.lbPool disjoint from the other pools (kubectl get ciliumloadbalancerippools)",
      )
    : ok(`${found.metadata?.name}: ${pool.description}`);
}

export function l2PolicyResult(policies: readonly CustomObject[], expected: ExpectedObject): Result {
  const found = findBySpec(policies, expected);
  return found
    ? ok(`${found.metadata?.name} announces LoadBalancer IPs`)
    : missing(policies, expected, "the stack's spec");
}

export const lbPoolObjectCheck: Check<CheckContext> = {
  id: "cilium-lb-pool",
  component: COMPONENT,
  name: "LB IPAM pool",
  needs: [KUBE_API],
  run: async (context) => {
    const { lbPool } = context.facts.cilium;
    return lbPoolObjectResult(await listKind(context, lbPool.object), lbPool);
  },
};

export const l2PolicyCheck: Check<CheckContext> = {
  id: "cilium-l2",
  component: COMPONENT,
  name: "L2 announcements",
  needs: [KUBE_API],
  run: async (context) => {
    const { l2Policy } = context.facts.cilium;
    return l2PolicyResult(await listKind(context, l2Policy), l2Policy);
  },
};

export interface ServiceObject {
  metadata?: Meta;
  spec?: { type?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export function gatewayAddressResult(service: ServiceObject | undefined, gateway: StackFacts["gateway"]): Result {
  const name = `Service ${gateway.namespace}/${gateway.service}`;
  if (!service) return fail(`${name} not found`, "pulumi up (the gateway's Helm release creates it)");
  if (service.spec?.type !== "LoadBalancer") {
    return fail(`${name} is ${service.spec?.type ?? "untyped"}, not LoadBalancer`, "pulumi up");
  }
  const address = service.status?.loadBalancer?.ingress?.[0]?.ip;
  if (!address) {
    return fail(
      `${name} has no address yet`,
      "check that the LB pool has a free address and that the L2 policy's interfaces match the nodes' (cilium-operator's log says which)",
    );
  }
  if (gateway.loadBalancerIP && address !== gateway.loadBalancerIP) {
    return fail(
      `${name} got ${address}, not ${gateway.loadBalancerIP} (homecluster:istio.gateway.loadBalancerIP)`,
      `another Service may hold ${gateway.loadBalancerIP} (kubectl get services -A | grep ${gateway.loadBalancerIP})`,
    );
  }
  return ok(`${name}: ${address}`);
}

export const gatewayAddressCheck: Check<CheckContext> = {
  id: "cilium-gateway-address",
  component: COMPONENT,
  name: "Gateway address",
  needs: [KUBE_API],
  run: async (context) => {
    const { gateway } = context.facts;
    const kube = await context.kube();
    const service = await kube.find((api) =>
      api.core.readNamespacedService({ name: gateway.service, namespace: gateway.namespace }),
    );
    return gatewayAddressResult(service, gateway);
  },
};

/** The parts of the cilium-config ConfigMap the check reads. */
export interface ConfigMapObject {
  data?: Record<string, string>;
}

/**
 * Whether the agents run with WireGuard as the stack sets it: the chart writes `enable-wireguard` into cilium-config,
 * and the stack's values roll the agents when that ConfigMap changes.
 */
export function encryptionResult(config: ConfigMapObject | undefined, wireguard: boolean): Result {
  if (!config) return fail("no ConfigMap cilium-config", "pulumi up (the Cilium release creates it)");
  const on = config.data?.["enable-wireguard"] === "true";
  if (on === wireguard) {
    return ok(
      on ? "WireGuard encrypts pod traffic between nodes" : "no transparent encryption (cilium.encryption: none)",
    );
  }
  return fail(
    on
      ? "WireGuard is on, the stack sets it off"
      : "WireGuard is off: cloudflared's requests cross to the gateway in plaintext",
    "pulumi up (then the agents roll: kubectl -n kube-system rollout status ds/cilium)",
  );
}

export const encryptionCheck: Check<CheckContext> = {
  id: "cilium-encryption",
  component: COMPONENT,
  name: "Encryption",
  needs: [KUBE_API],
  run: async (context) => {
    const kube = await context.kube();
    const { cilium, kubernetes } = context.facts;
    const config = await kube.find((api) =>
      api.core.readNamespacedConfigMap({ name: "cilium-config", namespace: cilium.namespace }),
    );
    return encryptionResult(config, kubernetes.wireguard);
  },
};
