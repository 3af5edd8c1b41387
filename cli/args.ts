/** The command-line flags of the project's commands: `--name` switches and `--name VALUE` options. */

export interface Flags<S extends string, V extends string> {
  switches: ReadonlySet<S>;
  values: Partial<Record<V, string>>;
}

/** The flags in `argv`, or what is wrong with them (an unknown flag, a value missing). `-h` is `--help`. */
export function parseFlags<S extends string, V extends string>(
  argv: readonly string[],
  spec: { switches: readonly S[]; values: readonly V[] },
): Flags<S, V> | string {
  const switches = new Set<S>();
  const values: Partial<Record<V, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] === "-h" ? "--help" : argv[i]!;
    const name = flag.slice(2);
    if (flag.startsWith("--") && (spec.switches as readonly string[]).includes(name)) {
      switches.add(name as S);
    } else if (flag.startsWith("--") && (spec.values as readonly string[]).includes(name)) {
      const value = argv[++i];
      if (value === undefined || value.startsWith("--")) return `'${flag}' needs a value`;
      values[name as V] = value;
    } else {
      return `unknown option '${flag}'`;
    }
  }
  return { switches, values };
}
