/**
 * The seams between the stack's own objects and what the charts render from the stack's values: each names what a
 * real cluster depends on, checks it over the whole cluster view, and returns what it checked and each failure,
 * every failure naming the resource. A reference into a namespace neither the charts nor the stack run workloads in
 * (a user's app) cannot be checked here: it is returned as `outside`, never dropped.
 */
import { chartOf } from "../../versions";
import {
  containersOf,
  describe,
  field,
  find,
  matches,
  ofKind,
  ofRelease,
  podTemplates,
  showLabels,
  type ClusterView,
  type Placed,
  type PodTemplate,
} from "./cluster";

export interface SeamResult {
  checked: string[];
  failures: string[];
  outside: string[];
}

export interface Seam {
  name: string;
  check(view: ClusterView): SeamResult;
}

/** Collects one seam's findings. */
function findings() {
  const result: SeamResult = { checked: [], failures: [], outside: [] };
  return {
    result,
    fail: (what: string) => void result.failures.push(what),
    outside: (what: string) => void result.outside.push(what),
    /** `ok` when `failure` is undefined, else `fail`. */
    expect: (what: string, failure: string | undefined) =>
      failure === undefined ? result.checked.push(what) : result.failures.push(`${what}: ${failure}`),
  };
}

const isIstio = (p: Placed) => /(^|\.)istio\.io\//.test(p.object.apiVersion);
const stackOwn = (view: ClusterView) => view.objects.filter((p) => p.release === undefined);
const podsIn = (view: ClusterView, namespace: string | undefined) =>
  podTemplates(view).filter((pod) => namespace === undefined || pod.owner.namespace === namespace);
const podList = (pods: PodTemplate[]) =>
  pods.length === 0 ? "none" : pods.map((p) => `${p.owner.kind} ${p.owner.name} ${showLabels(p.labels)}`).join("; ");

/** A selector's scope: its namespace's pods, or every pod for Istio's root namespace and for Gateways. */
function scopeOf(view: ClusterView, p: Placed): string | undefined {
  if (p.kind === "Gateway" || p.namespace === view.rootNamespace) return undefined;
  return p.namespace;
}

/** Every pod selector and target reference of the stack's Istio objects and PodDisruptionBudgets selects a workload. */
const selectors: Seam = {
  name: "selectors and targetRefs of the stack's objects match workloads the charts or the stack run",
  check(view) {
    const f = findings();
    for (const p of stackOwn(view).filter((o) => isIstio(o) || o.kind === "PodDisruptionBudget")) {
      const spec = field<Record<string, unknown>>(p.object, "spec") ?? {};
      // An Istio Gateway's selector is a plain map; every other kind's is a LabelSelector.
      const selector =
        p.kind === "Gateway" && isIstio(p)
          ? field<Record<string, string>>(spec, "selector")
          : field<Record<string, string>>(spec, "selector", "matchLabels");
      if (selector !== undefined) {
        const scope = scopeOf(view, p);
        const what = `${describe(p)} selector ${showLabels(selector)}`;
        if (scope !== undefined && !view.owned.has(scope)) f.outside(`${what}: pods of ${scope}`);
        else {
          const pods = podsIn(view, scope);
          const hit = pods.filter((pod) => matches(selector, pod.labels));
          f.expect(
            what,
            hit.length > 0 ? undefined : `matches no pod in ${scope ?? "any namespace"} (pods there: ${podList(pods)})`,
          );
        }
      }
      const refs = [
        ...(field<{ group?: string; kind: string; name: string }[]>(spec, "targetRefs") ?? []),
        ...[field<{ group?: string; kind: string; name: string }>(spec, "targetRef")].flatMap((r) => (r ? [r] : [])),
      ];
      for (const ref of refs) {
        const what = `${describe(p)} targetRef ${ref.kind} ${ref.name}`;
        if (p.namespace !== undefined && !view.owned.has(p.namespace)) f.outside(what);
        else
          f.expect(
            what,
            find(view, ref.kind, p.namespace, ref.name) ? undefined : `no ${ref.kind} ${ref.name} in ${p.namespace}`,
          );
      }
    }
    return f.result;
  },
};

const PRINCIPAL = /^[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/;

/** Every principal an AuthorizationPolicy names is a ServiceAccount that exists, and pods run as it. */
const principals: Seam = {
  name: "principals of the stack's AuthorizationPolicies are service accounts pods run as",
  check(view) {
    const f = findings();
    for (const p of stackOwn(view).filter((o) => o.kind === "AuthorizationPolicy" && isIstio(o))) {
      const rules = field<{ from?: { source?: { principals?: string[]; notPrincipals?: string[] } }[] }[]>(
        p.object,
        "spec",
        "rules",
      );
      const named = (rules ?? []).flatMap((r) =>
        (r.from ?? []).flatMap((from) => [...(from.source?.principals ?? []), ...(from.source?.notPrincipals ?? [])]),
      );
      for (const principal of named) {
        const what = `${describe(p)} principal ${principal}`;
        const parsed = PRINCIPAL.exec(principal);
        if (principal.includes("*")) {
          f.outside(`${what}: a wildcard`);
          continue;
        }
        if (!parsed) {
          f.fail(`${what}: is not cluster.local/ns/<namespace>/sa/<name>`);
          continue;
        }
        const [, namespace = "", account = ""] = parsed;
        if (!view.owned.has(namespace)) {
          f.outside(what);
          continue;
        }
        const accounts = ofKind(view, "ServiceAccount", namespace).map((a) => a.name);
        const runAs = podsIn(view, namespace).filter((pod) => (pod.spec.serviceAccountName ?? "default") === account);
        f.expect(
          what,
          !accounts.includes(account)
            ? `no ServiceAccount ${namespace}/${account} (there: ${accounts.join(", ") || "none"})`
            : runAs.length === 0
              ? `no pod in ${namespace} runs as ${account} (pods there run as: ${podsIn(view, namespace)
                  .map((pod) => `${pod.owner.name}: ${pod.spec.serviceAccountName ?? "default"}`)
                  .join(", ")})`
              : undefined,
        );
      }
    }
    return f.result;
  },
};

/** The port a pod listens on for a Service's `targetPort` (a number, or a container port's name). */
function resolvePort(pod: PodTemplate, target: number | string): number | undefined {
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  return containersOf(pod)
    .flatMap((c) => c.ports ?? [])
    .find((port) => port.name === target)?.containerPort;
}

interface Rule {
  to?: { operation?: { ports?: string[] } }[];
}

/** ALLOW policies that apply to `pod`: its namespace's and the root namespace's, selecting it or selecting none. */
function allowsOf(view: ClusterView, pod: PodTemplate): Placed[] {
  return ofKind(view, "AuthorizationPolicy").filter((p) => {
    if (!isIstio(p) || (p.namespace !== pod.owner.namespace && p.namespace !== view.rootNamespace)) return false;
    if ((field<string>(p.object, "spec", "action") ?? "ALLOW") !== "ALLOW") return false;
    const selector = field<Record<string, string>>(p.object, "spec", "selector", "matchLabels");
    return selector === undefined || matches(selector, pod.labels);
  });
}

const admitsPort = (policy: Placed, port: number) =>
  (field<Rule[]>(policy.object, "spec", "rules") ?? []).some(
    (rule) =>
      rule.to === undefined ||
      rule.to.some((to) => to.operation?.ports === undefined || to.operation.ports.includes(String(port))),
  );

const SCHEME_PORTS: Record<string, number> = { http: 80, https: 443, ssh: 22, rdp: 3389 };
const IN_CLUSTER = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/;

/** The origins the stack's tunnel configuration sends requests to. */
function tunnelOrigins(view: ClusterView): string[] {
  return view.stack.run.resources
    .filter((r) => r.type.endsWith(":ZeroTrustTunnelCloudflaredConfig"))
    .flatMap((r) => (r.inputs.config?.ingresses ?? []) as { service: string }[])
    .map((rule) => rule.service);
}

/** Every in-cluster origin of the tunnel is a Service with that port, whose pods an ALLOW admits on the targetPort. */
const origins: Seam = {
  name: "the tunnel's in-cluster origins are Services with that port, admitted on their targetPort",
  check(view) {
    const f = findings();
    for (const origin of new Set(tunnelOrigins(view))) {
      const what = `tunnel origin ${origin}`;
      // http_status:404 and the like answer in cloudflared itself.
      if (!origin.includes("://")) continue;
      const url = new URL(origin);
      const host = IN_CLUSTER.exec(url.hostname);
      if (!host) {
        f.outside(`${what}: outside the cluster`);
        continue;
      }
      const [, name = "", namespace = ""] = host;
      if (!view.owned.has(namespace)) {
        f.outside(what);
        continue;
      }
      const port = url.port ? Number(url.port) : SCHEME_PORTS[url.protocol.replace(/:$/, "")];
      const service = find(view, "Service", namespace, name);
      if (!service) {
        f.fail(
          `${what}: no Service ${namespace}/${name} (there: ${
            ofKind(view, "Service", namespace)
              .map((s) => s.name)
              .join(", ") || "none"
          })`,
        );
        continue;
      }
      const ports = field<{ port: number; targetPort?: number | string }[]>(service.object, "spec", "ports") ?? [];
      const servicePort = ports.find((p) => p.port === port);
      if (!servicePort) {
        f.fail(`${what}: ${describe(service)} has no port ${port} (ports: ${ports.map((p) => p.port).join(", ")})`);
        continue;
      }
      const selector = field<Record<string, string>>(service.object, "spec", "selector") ?? {};
      const pods = podsIn(view, namespace).filter(
        (pod) => Object.keys(selector).length > 0 && matches(selector, pod.labels),
      );
      if (pods.length === 0) {
        f.fail(
          `${what}: ${describe(service)} selects no pod (${showLabels(selector)}; pods there: ${podList(podsIn(view, namespace))})`,
        );
        continue;
      }
      for (const pod of pods) {
        const target = resolvePort(pod, servicePort.targetPort ?? servicePort.port);
        const allows = allowsOf(view, pod).filter((p) => target !== undefined && admitsPort(p, target));
        f.expect(
          `${what} → ${describe(pod.owner)} port ${target ?? servicePort.targetPort}`,
          target === undefined
            ? `targetPort ${servicePort.targetPort} is no port of the pod`
            : allows.length === 0
              ? `no ALLOW AuthorizationPolicy admits port ${target} to it`
              : undefined,
        );
      }
    }
    return f.result;
  },
};

/** Every Secret a pod reads through its environment exists with that key; external-dns reads the one the stack writes. */
const secrets: Seam = {
  name: "the Secrets and keys pods read exist; external-dns reads the stack's token Secret",
  check(view) {
    const f = findings();
    const keysOf = (secret: Placed) => [
      ...Object.keys(field<Record<string, string>>(secret.object, "data") ?? {}),
      ...Object.keys(field<Record<string, string>>(secret.object, "stringData") ?? {}),
    ];
    for (const pod of podTemplates(view)) {
      for (const container of containersOf(pod)) {
        const refs = [
          ...(container.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : [])),
          ...(container.envFrom ?? []).flatMap((e) => (e.secretRef ? [{ ...e.secretRef, key: undefined }] : [])),
        ];
        for (const ref of refs.filter((r) => r.optional !== true)) {
          const what = `${describe(pod.owner)} container ${container.name} reads Secret ${ref.name}${ref.key ? ` key ${ref.key}` : ""}`;
          const secret = find(view, "Secret", pod.owner.namespace, ref.name);
          f.expect(
            what,
            !secret
              ? `no Secret ${pod.owner.namespace}/${ref.name}`
              : ref.key !== undefined && !keysOf(secret).includes(ref.key)
                ? `${describe(secret)} has no key ${ref.key} (keys: ${keysOf(secret).join(", ")})`
                : undefined,
          );
        }
      }
    }
    for (const release of view.releases.filter((r) => r.release.chart === "external-dns")) {
      const reads = podTemplates(view)
        .filter((pod) => pod.owner.release === release.release)
        .flatMap((pod) => containersOf(pod).flatMap((c) => c.env ?? []))
        .flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []));
      const stackSecrets = ofKind(view, "Secret", release.release.namespace).filter((s) => s.release === undefined);
      const read = stackSecrets.filter((s) => reads.some((r) => r.name === s.name && keysOf(s).includes(r.key)));
      f.expect(
        `external-dns (release ${release.release.release}) reads the Secret the stack writes`,
        read.length > 0
          ? undefined
          : `it reads ${reads.map((r) => `${r.name}/${r.key}`).join(", ") || "no Secret"}; the stack writes ${stackSecrets.map((s) => `${s.name} (${keysOf(s).join(", ")})`).join(", ") || "none"}`,
      );
    }
    return f.result;
  },
};

/** What Istio ambient needs of Cilium, in the agent's ConfigMap, and the API endpoint kube-proxy replacement uses. */
const ciliumConfig: Seam = {
  name: "cilium-config carries what ambient needs",
  check(view) {
    const f = findings();
    const { cilium } = view.stack.config;
    const configMaps = ofRelease(view, "cilium").filter((p) => p.kind === "ConfigMap" && p.name === "cilium-config");
    if (configMaps.length !== 1) {
      f.fail(`chart cilium renders ${configMaps.length} ConfigMaps cilium-config`);
      return f.result;
    }
    const configMap = configMaps[0]!;
    const data = field<Record<string, string>>(configMap.object, "data") ?? {};
    const wireguard = cilium.encryption === "wireguard";
    const expected: [key: string, value: string | undefined, why: string][] = [
      [
        "cni-exclusive",
        "false",
        "istio-cni chains its plugin into Cilium's CNI config, which an exclusive Cilium deletes",
      ],
      ["enable-bpf-masquerade", "false", "BPF masquerading breaks the SNAT ambient uses for kubelet probes"],
      ["kube-proxy-replacement", "true", "the stack replaces kube-proxy"],
      ["bpf-lb-sock-hostns-only", "true", "socket LB inside pods would bypass ambient's redirection"],
      ["enable-l2-announcements", "true", "the LB pool's addresses are announced on the LAN"],
      // Off, the key is absent or "false".
      ["enable-wireguard", wireguard ? "true" : undefined, `cilium.encryption is ${cilium.encryption}`],
    ];
    for (const [key, value, why] of expected) {
      const actual = data[key];
      const ok = value === undefined ? actual === undefined || actual === "false" : actual === value;
      f.expect(
        `${describe(configMap)} ${key}`,
        ok
          ? undefined
          : `is ${actual === undefined ? "absent" : JSON.stringify(actual)}, needs ${value === undefined ? 'absent or "false"' : JSON.stringify(value)} (${why})`,
      );
    }
    // Without kube-proxy, the agents reach the API server only at the endpoint config names.
    for (const agent of podTemplates(view).filter(
      (pod) => pod.owner.release?.chart === "cilium" && pod.owner.kind === "DaemonSet" && pod.owner.name === "cilium",
    )) {
      for (const container of agent.spec.containers ?? []) {
        const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
        const endpoint = `${env["KUBERNETES_SERVICE_HOST"]}:${env["KUBERNETES_SERVICE_PORT"]}`;
        f.expect(
          `${describe(agent.owner)} container ${container.name} API endpoint`,
          endpoint === `${cilium.k8sServiceHost}:${cilium.k8sServicePort}`
            ? undefined
            : `is ${endpoint}, config says ${cilium.k8sServiceHost}:${cilium.k8sServicePort}`,
        );
      }
    }
    return f.result;
  },
};

const hostPaths = (pod: PodTemplate | undefined) =>
  Object.fromEntries((pod?.spec.volumes ?? []).flatMap((v) => (v.hostPath ? [[v.name, v.hostPath.path]] : [])));

/** istiod and istio-cni render ambient, and istio-cni writes where Cilium's CNI reads. */
const ambient: Seam = {
  name: "istiod and istio-cni render ambient, istio-cni chaining into Cilium's CNI directories",
  check(view) {
    const f = findings();
    const pods = podTemplates(view);
    const istiod = pods.filter((pod) => pod.owner.release?.chart === "istiod" && pod.owner.kind === "Deployment");
    f.expect("chart istiod renders a Deployment", istiod.length > 0 ? undefined : "it renders none");
    for (const pod of istiod) {
      const env = (pod.spec.containers ?? []).flatMap((c) => c.env ?? []);
      const value = env.find((e) => e.name === "PILOT_ENABLE_AMBIENT")?.value;
      f.expect(
        `${describe(pod.owner)} PILOT_ENABLE_AMBIENT`,
        value === "true" ? undefined : `is ${value ?? "unset"}, needs "true"`,
      );
    }
    const cniConfig = ofRelease(view, "cni").filter((p) => p.kind === "ConfigMap" && p.name === "istio-cni-config");
    f.expect(
      "chart cni renders ConfigMap istio-cni-config",
      cniConfig.length === 1 ? undefined : `it renders ${cniConfig.length}`,
    );
    for (const configMap of cniConfig) {
      const data = field<Record<string, string>>(configMap.object, "data") ?? {};
      for (const key of ["AMBIENT_ENABLED", "CHAINED_CNI_PLUGIN"]) {
        f.expect(
          `${describe(configMap)} ${key}`,
          data[key] === "true" ? undefined : `is ${data[key] ?? "absent"}, needs "true"`,
        );
      }
    }
    const cni = pods.find((pod) => pod.owner.release?.chart === "cni" && pod.owner.kind === "DaemonSet");
    const agent = pods.find(
      (pod) => pod.owner.release?.chart === "cilium" && pod.owner.name === "cilium" && pod.owner.kind === "DaemonSet",
    );
    const [istioPaths, ciliumPaths] = [hostPaths(cni), hostPaths(agent)];
    for (const [istioVolume, ciliumVolume] of [
      ["cni-net-dir", "etc-cni-netd"],
      ["cni-bin-dir", "cni-path"],
    ] as const) {
      const [istio, cilium] = [istioPaths[istioVolume], ciliumPaths[ciliumVolume]];
      f.expect(
        `istio-cni ${istioVolume} is Cilium's ${ciliumVolume}`,
        istio !== undefined && istio === cilium
          ? undefined
          : `istio-cni mounts ${istio ?? "nothing"}, Cilium ${cilium ?? "nothing"}`,
      );
    }
    return f.result;
  },
};

/** The gateway's pods stay out of ambient, and its Gateway's servers listen on the port its Service forwards to. */
const gateway: Seam = {
  name: "the gateway's pods are out of ambient, as many as the stack sets, its servers on its Service's targetPort",
  check(view) {
    const f = findings();
    const pods = podTemplates(view).filter((pod) => pod.owner.release?.chart === "gateway");
    f.expect("chart gateway renders pods", pods.length > 0 ? undefined : "it renders none");
    // The stack's replica count, a key the chart documents only in its comments and schema; its budget is the
    // stack's own object, which the selector seam checks against these pods.
    for (const release of view.releases.map((r) => r.release).filter((r) => r.chart === "gateway")) {
      const replicas = field<number>(release.values, "replicaCount");
      for (const deployment of ofRelease(view, "gateway").filter((p) => p.kind === "Deployment")) {
        const rendered = field<number>(deployment.object, "spec", "replicas");
        f.expect(
          `${describe(deployment)} replicas`,
          rendered === replicas ? undefined : `renders ${rendered ?? "none"}, the stack sets ${replicas}`,
        );
      }
    }
    for (const pod of pods) {
      const mode = pod.labels["istio.io/dataplane-mode"];
      f.expect(
        `${describe(pod.owner)} label istio.io/dataplane-mode`,
        mode === "none" ? undefined : `is ${mode ?? "absent"}, needs "none" (an Envoy of its own)`,
      );
    }
    for (const p of stackOwn(view).filter((o) => o.kind === "Gateway" && isIstio(o))) {
      const selector = field<Record<string, string>>(p.object, "spec", "selector") ?? {};
      const selected = podTemplates(view).filter((pod) => matches(selector, pod.labels));
      const targets = ofKind(view, "Service").flatMap((service) => {
        const serviceSelector = field<Record<string, string>>(service.object, "spec", "selector") ?? {};
        const forwards = selected.some(
          (pod) =>
            pod.owner.namespace === service.namespace &&
            Object.keys(serviceSelector).length > 0 &&
            matches(serviceSelector, pod.labels),
        );
        if (!forwards) return [];
        const ports = field<{ port: number; targetPort?: number | string }[]>(service.object, "spec", "ports") ?? [];
        return ports.flatMap((port) => selected.map((pod) => resolvePort(pod, port.targetPort ?? port.port)));
      });
      for (const server of field<{ port: { number: number } }[]>(p.object, "spec", "servers") ?? []) {
        f.expect(
          `${describe(p)} server port ${server.port.number}`,
          targets.includes(server.port.number)
            ? undefined
            : `no Service forwards to it (their targetPorts: ${[...new Set(targets)].join(", ") || "none"})`,
        );
      }
    }
    return f.result;
  },
};

// name[:tag][@digest]: the tag is after the last ':' that follows the last '/' (a registry may carry a port).
const IMAGE = /^(?<name>[^@]+?)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/;

/**
 * The image istiod's injector puts in place of `image: auto` (the gateway's proxy): its values' hub, proxy image and
 * tag, as the injection template composes them (an image naming a registry is taken as it is).
 */
function injectedImage(view: ClusterView): string | undefined {
  const injector = ofRelease(view, "istiod").find((p) => p.kind === "ConfigMap" && p.name === "istio-sidecar-injector");
  const values = field<string>(injector?.object, "data", "values");
  if (values === undefined) return undefined;
  const global = field<{ hub: string; tag: string; proxy: { image: string } }>(JSON.parse(values), "global");
  if (!global) return undefined;
  return global.proxy.image.includes("/") ? global.proxy.image : `${global.hub}/${global.proxy.image}:${global.tag}`;
}

const isPinned = (image: string) => {
  const parsed = IMAGE.exec(image)?.groups;
  return (
    parsed !== undefined &&
    (parsed["digest"] !== undefined || (parsed["tag"] !== undefined && parsed["tag"] !== "latest"))
  );
};

/** Every image is pinned: a digest, or a tag other than `latest`; an injected proxy by istiod's injector values. */
const images: Seam = {
  name: "every image is pinned by tag or digest",
  check(view) {
    const f = findings();
    const injected = injectedImage(view);
    for (const pod of podTemplates(view)) {
      for (const container of containersOf(pod)) {
        const image = container.image === "auto" ? `auto (istiod injects ${injected ?? "nothing"})` : container.image;
        const what = `${describe(pod.owner)} container ${container.name} image ${image ?? "(none)"}`;
        if (container.image === "auto") {
          f.expect(
            what,
            pod.labels["sidecar.istio.io/inject"] !== "true"
              ? "is `auto`, for istiod's injector to fill in, but the pod is not labelled sidecar.istio.io/inject=true"
              : injected === undefined
                ? "is `auto`, and istiod renders no istio-sidecar-injector values to fill it in"
                : isPinned(injected)
                  ? undefined
                  : `is \`auto\`, which istiod's injector fills in with ${injected}: not pinned`,
          );
        } else
          f.expect(
            what,
            isPinned(container.image ?? "") ? undefined : "is not pinned (no digest, and no tag or `latest`)",
          );
      }
    }
    return f.result;
  },
};

/** The workloads versions.ts declares for each release (what doctor looks for) are exactly the ones its chart renders. */
const workloads: Seam = {
  name: "the workloads versions.ts declares are the Deployments and DaemonSets the charts render",
  check(view) {
    const f = findings();
    const show = (w: { kind: string; name: string; selector: Record<string, string> }) =>
      `${w.kind} ${w.name} ${showLabels(w.selector)}`;
    for (const { release, objects } of view.releases) {
      const what = `release ${release.release} (chart ${release.chart})`;
      const chart = chartOf(release.chart);
      if (!chart) {
        f.fail(`${what}: versions.ts has no chart ${release.chart} from ${release.repo}`);
        continue;
      }
      const declared = chart.workloads({ name: release.release, values: release.values }).map(show).sort();
      const rendered = objects
        .filter((o) => o.kind === "Deployment" || o.kind === "DaemonSet")
        .map((o) =>
          show({
            kind: o.kind,
            name: o.metadata.name,
            selector: field<Record<string, string>>(o, "spec", "selector", "matchLabels") ?? {},
          }),
        )
        .sort();
      const missing = declared.filter((w) => !rendered.includes(w));
      const extra = rendered.filter((w) => !declared.includes(w));
      f.expect(
        `${what}: ${rendered.join(", ") || "no workloads"}`,
        missing.length + extra.length === 0
          ? undefined
          : [
              missing.length ? `declared but not rendered: ${missing.join("; ")}` : "",
              extra.length ? `rendered but not declared: ${extra.join("; ")}` : "",
            ]
              .filter(Boolean)
              .join("; "),
      );
    }
    return f.result;
  },
};

export const SEAMS: Seam[] = [
  selectors,
  principals,
  origins,
  secrets,
  ciliumConfig,
  ambient,
  gateway,
  images,
  workloads,
];
