/**
 * Owns how the benchmarks read their command line: `--name value` options, positive numbers.
 * Shared by bench/fanout, bench/cluster and bench/soak.
 */

/** The number after `--name`, or def when the option is absent; refuses anything not positive. */
export function positiveOption(argv: readonly string[], name: string, def: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}
