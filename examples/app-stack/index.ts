/**
 * An application stack that consumes homecluster's outputs: it exposes `whoami` through the shared Istio
 * ingress gateway, in a namespace homecluster enrolled in the ambient mesh, and allows the gateway (and only
 * the gateway) to reach it under the mesh-wide default deny.
 *
 * The hostname must be routed by homecluster, bound to this stack's namespace: `{ host: whoami, namespace: media }`
 * in its `routes` (or `{ host: "*", namespace: media }`); the Gateway lets only that namespace bind it, and this
 * stack then binds the hostname.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { HomeclusterOutputs } from "homecluster/contract";

const config = new pulumi.Config();
/** `<org>/homecluster/homecluster` (Pulumi Cloud) or `organization/homecluster/homecluster` (file/S3 backend). */
const homecluster = new pulumi.StackReference(config.get("homeclusterStack") ?? "organization/homecluster/homecluster");
const namespace = config.get("namespace") ?? "media";
const appName = "whoami";
const appPort = 8080;

/** A typed view of one of homecluster's outputs. */
function homeclusterOutput<K extends keyof HomeclusterOutputs>(key: K): pulumi.Output<HomeclusterOutputs[K]> {
  return homecluster.requireOutput(key) as pulumi.Output<HomeclusterOutputs[K]>;
}

const gateway = homeclusterOutput("ingressGateway");
const hostname = pulumi.interpolate`${appName}.${homeclusterOutput("domain")}`;
// Fail the deployment, not the traffic, when the namespace is not in the mesh: the gateway's allow would not apply.
const meshNamespace = homeclusterOutput("meshNamespaces").apply((namespaces) => {
  if (!namespaces.includes(namespace)) {
    throw new Error(`namespace '${namespace}' is not in homecluster's meshNamespaces (${namespaces.join(", ")})`);
  }
  return namespace;
});

const labels = { app: appName };
const deployment = new k8s.apps.v1.Deployment(appName, {
  metadata: { namespace: meshNamespace, labels },
  spec: {
    replicas: 1,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: {
        containers: [
          {
            name: appName,
            image: "traefik/whoami:v1.10.3",
            args: [`--port=${appPort}`],
            ports: [{ name: "http", containerPort: appPort }],
          },
        ],
      },
    },
  },
});

const service = new k8s.core.v1.Service(appName, {
  metadata: { namespace: meshNamespace, labels },
  spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: appPort }] },
});

// The hostname is served by homecluster's tunnel: the tunnel-route label keeps external-dns from also
// publishing it (as a record to the gateway's LAN address, which would shadow the tunnel's CNAME).
const dnsOwnership = homeclusterOutput("dns");
new k8s.apiextensions.CustomResource(`${appName}-route`, {
  apiVersion: "networking.istio.io/v1",
  kind: "VirtualService",
  metadata: {
    namespace: meshNamespace,
    labels: dnsOwnership.apply((dns) => ({ [dns.tunnelRouteLabel]: "true" })),
  },
  spec: {
    hosts: [hostname],
    gateways: [gateway.gateway],
    http: [
      {
        route: [
          {
            destination: {
              host: pulumi.interpolate`${service.metadata.name}.${meshNamespace}.svc.cluster.local`,
              port: { number: 80 },
            },
          },
        ],
      },
    ],
  },
});

// Under homecluster's default deny only the gateway's identity may reach the app, on the container port.
new k8s.apiextensions.CustomResource(`${appName}-allow-gateway`, {
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { namespace: meshNamespace },
  spec: {
    selector: { matchLabels: labels },
    action: "ALLOW",
    rules: [
      { from: [{ source: { principals: [gateway.principal] } }], to: [{ operation: { ports: [String(appPort)] } }] },
    ],
  },
});

export const url = pulumi.interpolate`https://${hostname}`;
export const deploymentName = deployment.metadata.name;
