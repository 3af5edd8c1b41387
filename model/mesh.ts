/** The label that puts a namespace's pods into the ambient mesh. */
export const AMBIENT_LABEL = { "istio.io/dataplane-mode": "ambient" } as const;
