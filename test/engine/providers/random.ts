/**
 * A stand-in for the random provider plugin (pulumi-resource-random), which cannot be built here: RandomBytes, the
 * one resource the program uses (the tunnel's secret), with the real provider's behaviour: new bytes only when
 * `length` or `keepers` change (a replacement), both outputs secret, any input its schema lacks refused.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { main, type Provider } from "@pulumi/pulumi/provider";
import { packageVersion, sdkInputNames, unknownInputs } from "./sdk-schema";
import { diffInputs, plain, secret } from "./values";

const RANDOM_BYTES = "random:index/randomBytes:RandomBytes";
const schema = sdkInputNames(path.dirname(require.resolve("@pulumi/random/package.json")));
/** A URN's resource type: `urn:pulumi:<stack>::<project>::<parent types $>type::<name>`. */
const typeOf = (urn: string) => urn.split("::")[2]!.split("$").pop()!;

function served(urn: string): void {
  if (typeOf(urn) !== RANDOM_BYTES) throw new Error(`the random stand-in does not serve ${typeOf(urn)}`);
}

const provider: Provider = {
  version: packageVersion("@pulumi/random"),
  async check(urn, _olds, news) {
    served(urn);
    return { inputs: news, failures: unknownInputs(schema, RANDOM_BYTES, news) };
  },
  async diff(_id, urn, olds, news) {
    served(urn);
    return diffInputs(schema.get(RANDOM_BYTES)!, olds, news, ["length", "keepers"]);
  },
  async create(urn, inputs) {
    served(urn);
    const bytes = randomBytes(Number(plain(inputs).length));
    return {
      id: "none",
      outs: { ...inputs, base64: secret(bytes.toString("base64")), hex: secret(bytes.toString("hex")) },
    };
  },
  async read(id, _urn, props) {
    return { id, props };
  },
};

void main(provider, process.argv.slice(2));
