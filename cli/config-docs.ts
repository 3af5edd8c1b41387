/** `npm run docs`: writes docs/configuration.md, the config reference, from config/schema.ts. */
import * as fs from "node:fs";
import * as path from "node:path";
import { configReference, REFERENCE_FILE } from "./stack/reference";

fs.writeFileSync(REFERENCE_FILE, configReference());
process.stdout.write(`Wrote ${path.relative(process.cwd(), REFERENCE_FILE)}\n`);
