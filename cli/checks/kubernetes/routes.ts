/**
 * Each route to a Service in the cluster, against the live Service: ztunnel matches the container port, so an allow
 * on the Service's port denies every request in silence when the Service forwards it elsewhere (80 → 8080). The
 * Service's `targetPort` is resolved as the kubelet would: a number as it is, a name through the selected pods'
 * container ports.
 */
import type { RoutedService } from "../../stack/facts";
import { fail, listing, ok, warn, type Check, type Result } from "../check";
import type { CheckContext } from "../context";
import { KUBE_API } from "./cluster";
import { labelSelector, type Meta } from "./objects";

export interface ServicePortInfo {
  name?: string;
  port: number;
  targetPort?: number | string;
}

export interface RoutedServiceObject {
  metadata?: Meta;
  spec?: { selector?: Record<string, string>; ports?: ServicePortInfo[] };
}

export interface PodPorts {
  spec?: { containers?: { ports?: { name?: string; containerPort: number }[] }[] };
}

/** What one route finds: its Service (undefined when there is none) and the pods it selects. */
export interface RouteFinding {
  route: RoutedService;
  service: RoutedServiceObject | undefined;
  pods: readonly PodPorts[];
}

/** The container port the Service forwards the route's port to; a string says why it cannot tell. */
function containerPort(finding: RouteFinding): number | { problem: string } {
  const { route, service, pods } = finding;
  const entry = service?.spec?.ports?.find((p) => p.port === route.port);
  if (!entry) {
    const ports = service?.spec?.ports?.map((p) => p.port).join(", ") ?? "none";
    return { problem: `has no port ${route.port} (its ports: ${ports})` };
  }
  const target = entry.targetPort ?? entry.port;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  const named = pods.flatMap((pod) => pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  const match = named.find((p) => p.name === target);
  return match
    ? match.containerPort
    : { problem: `forwards ${route.port} to the named port '${target}', which no selected pod has` };
}

/**
 * `existing`: whether the Service must exist (doctor) or may not yet (preflight, before the apps are deployed).
 */
export function routesResult(findings: readonly RouteFinding[], { existing }: { existing: boolean }): Result {
  const checked = findings.filter((f) => f.route.allowPort !== undefined);
  if (checked.length === 0) return ok("no route's allow depends on a Service's port");
  const broken: string[] = [];
  const fixes: string[] = [];
  const unknown: string[] = [];
  const missing: string[] = [];
  for (const finding of checked) {
    const { route } = finding;
    const name = `${route.configKey} (${route.hostname}): Service ${route.namespace}/${route.service}`;
    if (!finding.service) {
      missing.push(`${route.namespace}/${route.service}`);
      continue;
    }
    const port = containerPort(finding);
    if (typeof port !== "number") unknown.push(`${name} ${port.problem}`);
    else if (port !== route.allowPort) {
      broken.push(`${name} forwards port ${route.port} to ${port}, the allow admits ${route.allowPort}`);
      fixes.push(`set targetPort: ${port} on ${route.configKey}`);
    }
  }
  if (broken.length > 0) {
    return fail(`${broken.join("; ")}: every request is denied`, `${fixes.join("; ")}, then pulumi up`);
  }
  if (unknown.length > 0) return warn(unknown.join("; "), "check the route's port and the Service's ports");
  if (missing.length > 0 && existing) {
    return fail(`no Service ${listing(missing)}`, "deploy the app, or fix the route's service and namespace");
  }
  const present = checked.length - missing.length;
  if (present === 0) return ok(`no routed Service is deployed yet (${listing(missing)}): doctor checks them after`);
  const notYet = missing.length > 0 ? `; not deployed yet: ${listing(missing)}` : "";
  return ok(
    `${present} routed Service${present === 1 ? "" : "s"} forward${present === 1 ? "s" : ""} to the port the allow admits${notYet}`,
  );
}

export function routesCheck(options: { existing: boolean }): Check<CheckContext> {
  return {
    id: "kube-routes",
    component: "Routes",
    name: "Routed Services",
    needs: [KUBE_API],
    run: async (context) => {
      const kube = await context.kube();
      const findings = await Promise.all(
        context.facts.routes.map(async (route): Promise<RouteFinding> => {
          const service = await kube.find((api) =>
            api.core.readNamespacedService({ name: route.service, namespace: route.namespace }),
          );
          const selector = service?.spec?.selector;
          const pods =
            selector && Object.keys(selector).length > 0
              ? (
                  await kube.request((api) =>
                    api.core.listNamespacedPod({ namespace: route.namespace, labelSelector: labelSelector(selector) }),
                  )
                ).items
              : [];
          return { route, service, pods };
        }),
      );
      return routesResult(findings, options);
    },
  };
}
