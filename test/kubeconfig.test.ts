/**
 * $KUBECONFIG with several files, merged as kubectl merges it. Only the kubeconfig is read: no test here connects,
 * and every server URL is 127.0.0.1.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CheckError } from "../cli/clients/error";
import { connectKube, readKubeconfig } from "../cli/clients/kube";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homecluster-kubeconfig-"));

interface Entry {
  name: string;
  server: string;
  token: string;
}

/** A kubeconfig file whose clusters, users and contexts share each entry's name, as k3s writes them. */
function kubeconfig(file: string, entries: Entry[], currentContext?: string): string {
  const at = path.join(dir, file);
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.writeFileSync(
    at,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: entries.map((e) => ({
        name: e.name,
        cluster: { server: e.server, "certificate-authority": "ca.crt" },
      })),
      users: entries.map((e) => ({ name: e.name, user: { token: e.token } })),
      contexts: entries.map((e) => ({ name: e.name, context: { cluster: e.name, user: e.name } })),
      ...(currentContext ? { "current-context": currentContext } : {}),
    }),
  );
  return at;
}

const k3s = kubeconfig("k3s/config", [{ name: "default", server: "https://127.0.0.1:6443", token: "k3s-token" }]);
const lab = kubeconfig(
  "lab/config",
  [
    { name: "default", server: "https://127.0.0.1:7443", token: "lab-token" },
    { name: "lab", server: "https://127.0.0.1:8443", token: "lab-token" },
  ],
  "lab",
);
const missing = path.join(dir, "missing/config");

const read = (context: string, ...files: string[]) =>
  readKubeconfig({ context, kubeconfig: undefined, env: { HOME: dir, KUBECONFIG: files.join(path.delimiter) } });

const connect = (context: string, ...files: string[]) =>
  connectKube({
    context,
    kubeconfig: undefined,
    env: { HOME: dir, KUBECONFIG: files.join(path.delimiter) },
    deadline: new AbortController().signal,
    timeoutSeconds: 1,
  });

describe("$KUBECONFIG with several files, as kubectl reads it", () => {
  it("the first file to name a cluster, user or context defines it; later files add the names they alone define", async () => {
    const { config, source } = await read("default", k3s, lab);
    expect(source).toBe([k3s, lab].join(path.delimiter));
    expect(config.clusters.map((c) => [c.name, c.server])).toEqual([
      ["default", "https://127.0.0.1:6443"],
      ["lab", "https://127.0.0.1:8443"],
    ]);
    expect(config.users.map((u) => [u.name, u.token])).toEqual([
      ["default", "k3s-token"],
      ["lab", "lab-token"],
    ]);
    // Relative paths stay relative to the file that named them.
    expect(config.getCluster("default")?.caFile).toBe(path.join(dir, "k3s/ca.crt"));
    expect(config.getCluster("lab")?.caFile).toBe(path.join(dir, "lab/ca.crt"));

    expect((await connect("default", k3s, lab)).server).toBe("https://127.0.0.1:6443");
    expect((await connect("default", lab, k3s)).server).toBe("https://127.0.0.1:7443");
    expect((await connect("lab", k3s, lab)).server).toBe("https://127.0.0.1:8443");
  });

  it("skips a file that does not exist", async () => {
    const { config, source } = await read("default", missing, k3s);
    expect(source).toBe(k3s);
    expect(config.clusters.map((c) => c.server)).toEqual(["https://127.0.0.1:6443"]);
    expect((await connect("default", missing, k3s)).server).toBe("https://127.0.0.1:6443");
  });

  it("takes current-context from the first file that sets it", async () => {
    const other = kubeconfig(
      "other/config",
      [{ name: "other", server: "https://127.0.0.1:9443", token: "other-token" }],
      "other",
    );
    // k3s's file sets none, so lab's wins over other's.
    expect((await read("default", k3s, lab, other)).config.getCurrentContext()).toBe("lab");
    expect((await read("default", k3s, other, lab)).config.getCurrentContext()).toBe("other");
  });

  it("when no file of it exists, says so in one line naming $KUBECONFIG", async () => {
    const also = path.join(dir, "also-missing");
    const error = await connect("default", missing, also).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckError);
    expect((error as CheckError).message).toBe(
      `cannot load the kubeconfig for kube context 'default': no file in $KUBECONFIG exists (${missing}${path.delimiter}${also})`,
    );
  });

  it("a context no file defines is named with the files read", async () => {
    const error = await connect("prod", missing, k3s, lab).catch((e: unknown) => e);
    expect((error as CheckError).message).toBe(`kube context 'prod' is not in ${k3s}${path.delimiter}${lab}`);
  });
});
