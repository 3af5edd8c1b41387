/**
 * What in a valid config deserves a second look: one sentence each naming the key. The offline plan prints them
 * first; preflight and doctor do not fail on them.
 */
import { PROJECT, type HomeclusterConfig } from "./schema";

/** Valid settings that weaken the stack or surprise a reader, one sentence each naming the key. */
export function warnings(config: HomeclusterConfig): string[] {
  const out: string[] = [];
  if (!config.tunnel.protect) {
    out.push(
      `${PROJECT}:tunnel.protect is false: a destroy deletes the tunnel and its DNS records, and a replacement (another account, zone or tunnel config source) deletes them before it creates the new ones: every public route is down in between`,
    );
  }
  if (!config.istio.defaultDeny) {
    out.push(`${PROJECT}:istio.defaultDeny is false: every mesh workload accepts any mesh peer`);
  }
  if (config.istio.gateway.serviceType === "LoadBalancer") {
    const at = config.istio.gateway.loadBalancerIP ?? "an address from the LB pool";
    out.push(
      `${PROJECT}:istio.gateway.serviceType is LoadBalancer: every gateway route is also served on the LAN at ${at}`,
    );
  }
  if (config.externalDns.proxied) {
    out.push(`${PROJECT}:externalDns.proxied is true: records of LAN addresses stop working behind Cloudflare's proxy`);
  }
  for (const route of config.routes) {
    // Universal SSL covers the apex and one level below it; deeper names need their own edge certificate.
    if (route.hostname.slice(0, -config.domain.length - 1).includes(".")) {
      out.push(
        `${route.configKey} (${route.hostname}) is more than one level below ${config.domain}: Cloudflare's free Universal SSL certificate does not cover it; order an Advanced Certificate for it or use a one-level name`,
      );
    }
    const outside =
      route.kind === "gateway"
        ? !route.mesh && route.namespace
        : route.backend && !route.backend.mesh && route.backend.namespace;
    if (outside)
      out.push(`${route.configKey} (${route.hostname}) stays outside the mesh in '${outside}': no policy protects it`);
  }
  config.istio.mtlsExceptions.forEach((e, i) => {
    const ports = e.ports.length > 0 ? `ports ${e.ports.join(", ")}` : "every port";
    const pods = e.selector
      ? `pods ${Object.entries(e.selector)
          .map(([k, v]) => `${k}=${v}`)
          .join(",")}`
      : "every pod";
    out.push(`${PROJECT}:istio.mtlsExceptions[${i}]: ${pods} in '${e.namespace}' accept plaintext on ${ports}`);
  });
  return out;
}
