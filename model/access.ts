/** What cloudflared and the ingress gateway check Access's token against (the Access component's outputs). */
import type * as pulumi from "@pulumi/pulumi";

export interface AccessCheck {
  /** `<team>.cloudflareaccess.com`: the token's issuer, whose keys are at `/cdn-cgi/access/certs`. */
  teamDomain: pulumi.Output<string>;
  /** Each protected hostname's Access application `aud` tag: the token's audience. */
  audiences: pulumi.Output<Record<string, string>>;
}
