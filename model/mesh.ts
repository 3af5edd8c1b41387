/** The label that puts a namespace's pods into the ambient mesh. */
export const AMBIENT_LABEL = { "istio.io/dataplane-mode": "ambient" } as const;

/**
 * A ServiceEntry's key (its Pulumi resource name under the mesh policies). Namespace and name may both hold `-`, so
 * two entries can meet on one key (`a-b/c` and `a/b-c`): the config gate refuses that pair, reading this same key.
 */
export const serviceEntryKey = (entry: { namespace: string; name: string }): string =>
  `service-entry-${entry.namespace}-${entry.name}`;

/**
 * An allow of `istio.allow`, named by its peer: `allow-from-monitoring` (the namespace) or
 * `allow-from-monitoring.prometheus` (one service account). A namespace holds no dot, so the two forms never meet;
 * the object lives in the destination namespace, which the key adds. Inserting an entry leaves the others' names.
 */
export const configAllowName = (from: { namespace: string; serviceAccount?: string }): string =>
  `allow-from-${from.namespace}${from.serviceAccount ? `.${from.serviceAccount}` : ""}`;
export const configAllowKey = (rule: {
  from: { namespace: string; serviceAccount?: string };
  to: { namespace: string };
}) => `${configAllowName(rule.from)}-to-${rule.to.namespace}`;

/**
 * What an mTLS exception covers, as a name suffix: its selector's values in the order of their keys (`-nas` for
 * `{ app: nas }`), nothing for the whole namespace. Label values may hold upper case and `_`, which names cannot.
 */
function coveredSuffix(selector: Record<string, string> | undefined): string {
  const values = Object.keys(selector ?? {})
    .sort()
    .map((key) => selector![key]!.toLowerCase().replace(/[^a-z0-9.-]/g, "-"))
    .filter(Boolean);
  return values.map((value) => `-${value}`).join("");
}

/**
 * The names and keys of an mTLS exception's PeerAuthentication and of the allow that admits plaintext to what it
 * covers. Keys add the namespace; the config gate refuses two exceptions meeting on one.
 */
export function mtlsExceptionNames(exception: { namespace: string; selector?: Record<string, string> }) {
  const suffix = coveredSuffix(exception.selector);
  const named = (name: string) => ({ name, key: `${name}-${exception.namespace}` });
  return { peerAuthentication: named(`mtls-exception${suffix}`), plaintextAllow: named(`allow-plaintext${suffix}`) };
}
