/**
 * Every resource and invoke of a provider package goes through the stack's explicit provider of that package, never
 * a default provider that would follow whatever kube context or Cloudflare credentials the environment has.
 */
import { describe, expect, it } from "vitest";
import { isSecretAt, runProgram, sharedRun, TEST_API_TOKEN } from "./support/harness";
import { PROVIDERS, providerUrn } from "./support/program-checks";

describe("explicit providers, with the test stack's config", () => {
  const run = sharedRun();

  it("registers one provider per package, the explicit one", () => {
    expect(
      run()
        .all("pulumi:providers:kubernetes")
        .map((p) => p.urn),
    ).toEqual([PROVIDERS.kubernetes]);
    expect(
      run()
        .all("pulumi:providers:cloudflare")
        .map((p) => p.urn),
    ).toEqual([PROVIDERS.cloudflare]);
  });

  for (const [pkg, urn] of Object.entries(PROVIDERS)) {
    it(`creates every ${pkg} resource with the explicit ${pkg} provider`, () => {
      const resources = run().resources.filter((r) => r.custom && r.type.startsWith(`${pkg}:`));
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) expect(providerUrn(resource.provider), resource.name).toBe(urn);
    });
  }

  it("makes every invoke (permission groups, Zero Trust organisation, tunnel token) through the Cloudflare provider", () => {
    const calls = run().calls.map((c) => [c.token, providerUrn(c.provider)]);
    expect(calls.sort()).toEqual([
      ["cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList", PROVIDERS.cloudflare],
      ["cloudflare:index/getZeroTrustOrganization:getZeroTrustOrganization", PROVIDERS.cloudflare],
      ["cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken", PROVIDERS.cloudflare],
    ]);
  });
});

describe("the providers' own settings", () => {
  it("kubernetes: the configured context, server-side apply, the default kubeconfig; cloudflare: the token, as a secret", async () => {
    const run = await runProgram();
    const k8s = run.get("pulumi:providers:kubernetes", "k8s");
    expect(k8s.inputs).toMatchObject({ context: "admin@homecluster", enableServerSideApply: "true" });
    expect(k8s.inputs.kubeconfig).toBeUndefined();
    const cloudflare = run.get("pulumi:providers:cloudflare", "cloudflare");
    expect(cloudflare.inputs.apiToken).toBe(TEST_API_TOKEN);
    expect(isSecretAt(cloudflare.rawInputs, "apiToken")).toBe(true);
  });

  it("keeps homecluster:kubeconfig secret in the provider's inputs: it may hold the credentials", async () => {
    const kubeconfig = "apiVersion: v1\nkind: Config\nusers: [{ name: admin, user: { token: abc } }]\n";
    const run = await runProgram({ config: { kubeconfig } });
    const k8s = run.get("pulumi:providers:kubernetes", "k8s");
    expect(k8s.inputs.kubeconfig).toBe(kubeconfig);
    expect(isSecretAt(k8s.rawInputs, "kubeconfig")).toBe(true);
  });
});
