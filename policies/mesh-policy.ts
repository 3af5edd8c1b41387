/** A mesh policy object and the key its Pulumi resource is named by, both named by the builder that makes it. */
import type { AuthorizationPolicy, PeerAuthentication, ServiceEntry } from "../crds/istio-io";

export interface MeshPolicy<T = PeerAuthentication | AuthorizationPolicy | ServiceEntry> {
  /** Unique in the stack (the component prefixes its own name): the object's name, and its namespace when the name repeats. */
  key: string;
  object: T;
}
