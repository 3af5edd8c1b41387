/** The label that puts a namespace's pods into the ambient mesh. */
export const AMBIENT_LABEL = { "istio.io/dataplane-mode": "ambient" } as const;

/**
 * A ServiceEntry's key (its Pulumi resource name under the mesh policies). Namespace and name may both hold `-`, so
 * two entries can meet on one key (`a-b/c` and `a/b-c`): the config gate refuses that pair, reading this same key.
 */
export const serviceEntryKey = (entry: { namespace: string; name: string }): string =>
  `service-entry-${entry.namespace}-${entry.name}`;
