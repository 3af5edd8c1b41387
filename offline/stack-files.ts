/**
 * Reading Pulumi.yaml and a stack file the way a user's mistake should be reported: a missing file or a YAML error
 * names the file (and the line), never a stack trace.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { ProjectFile, StackFile } from "./config-gate";

/** The project's root: where Pulumi.yaml lives. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** A file the user gave that cannot be read or parsed; the message names it. */
export class StackFileError extends Error {
  override name = "StackFileError";
}

function readYaml(file: string): unknown {
  // As the user would type it: relative inside the working directory, absolute elsewhere.
  const relative = path.relative(process.cwd(), file);
  const shown = relative && !relative.startsWith("..") ? relative : file;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StackFileError(`${shown}: ${code === "ENOENT" ? "no such file" : `cannot read it (${code})`}`);
  }
  try {
    return parseYaml(text);
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const at = error.linePos?.[0];
      const where = at ? `:${at.line}:${at.col}` : "";
      const message = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
      throw new StackFileError(`${shown}${where}: ${message}`);
    }
    throw error;
  }
}

export function readProjectFile(root = PROJECT_ROOT): ProjectFile {
  return readYaml(path.join(root, "Pulumi.yaml")) as ProjectFile;
}

/** A stack file (absolute, or relative to the project root); an empty file has no config. */
export function readStackFile(file: string, root = PROJECT_ROOT): StackFile {
  const parsed = readYaml(path.resolve(root, file));
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new StackFileError(`${file}: must be a YAML map with a 'config:' key`);
  }
  return parsed as StackFile;
}

/** The stack file of a stack: `Pulumi.<stack>.yaml` in the project root. */
export function stackFilePath(stack: string, root = PROJECT_ROOT): string {
  return path.join(root, `Pulumi.${stack}.yaml`);
}
