/**
 * The check of the arguments a queue passes through to `sbatch` or `qsub`
 * (what follows `--` in `hq alloc add`): the queue sets the node count and the
 * walltime itself, and every argument must fit on a directive line. Pure.
 *
 * @module
 */
import type { ManagerKind } from "./queue.ts";
import { LINE_BREAK_REGEXP, PBS_SPACE_REGEXP } from "./_directive_text.ts";

const SLURM_NODES_REGEXP = /^(--nodes(=.*)?|-N.*)$/s;
const SLURM_TIME_REGEXP = /^(--time(=.*)?|-t.*)$/s;
const PBS_NODE_RESOURCES = new Set(["select", "nodes"]);

function describe(word: string): string {
  return JSON.stringify(word);
}

function checkSlurmArgs(args: readonly string[]): string | null {
  for (const arg of args) {
    if (SLURM_NODES_REGEXP.test(arg)) {
      return `Cannot pass ${
        describe(arg)
      } to sbatch: the node count comes from --max-workers-per-alloc`;
    }
    if (SLURM_TIME_REGEXP.test(arg)) {
      return `Cannot pass ${describe(arg)} to sbatch: the walltime comes from --time-limit`;
    }
  }
  return null;
}

function checkPbsArgs(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (PBS_SPACE_REGEXP.test(arg) && arg.includes('"') && arg.includes("'")) {
      return `Cannot pass ${
        describe(arg)
      } to qsub: a #PBS word with spaces cannot hold both kinds of quotes`;
    }
    if (!arg.startsWith("-l")) continue;
    const value = arg === "-l" ? args[i + 1] : arg.slice(2);
    if (value === undefined) continue;
    const shown = arg === "-l" ? `-l ${value}` : arg;
    for (const item of value.split(",")) {
      const name = item.split("=", 1)[0]!.trim();
      if (PBS_NODE_RESOURCES.has(name)) {
        return `Cannot pass ${
          describe(shown)
        } to qsub: the node count comes from --max-workers-per-alloc`;
      }
      if (name === "walltime") {
        return `Cannot pass ${describe(shown)} to qsub: the walltime comes from --time-limit`;
      }
    }
  }
  return null;
}

/**
 * Checks the arguments a queue passes through to `sbatch` or `qsub` (what
 * follows `--` in `hq alloc add`). HyperQueue's docs say the node count and
 * the walltime must not be given there, since the queue sets them; this
 * refuses them: `--nodes`, `-N`, `--time` and `-t` for SLURM, `-l` with a
 * `select`, `nodes` or `walltime` resource for PBS. It also refuses a line
 * break in any argument (it would end the directive line), and, for PBS, an
 * argument with whitespace and both kinds of quotes (it cannot be quoted on
 * a `#PBS` line).
 *
 * @example Usage
 * ```ts
 * import { checkAdditionalArgs } from "./manager_args.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkAdditionalArgs("slurm", ["--partition=p1", "--account=a"]), null);
 * assert.equal(
 *   checkAdditionalArgs("slurm", ["--nodes=2"]),
 *   'Cannot pass "--nodes=2" to sbatch: the node count comes from --max-workers-per-alloc',
 * );
 * assert.equal(
 *   checkAdditionalArgs("pbs", ["-l", "select=1:ncpus=8,walltime=1:00:00"]),
 *   'Cannot pass "-l select=1:ncpus=8,walltime=1:00:00" to qsub: the node count comes from --max-workers-per-alloc',
 * );
 * ```
 *
 * @param manager The batch system.
 * @param args The arguments, as words.
 * @returns Why the arguments are refused, or null when they are fine.
 */
export function checkAdditionalArgs(
  manager: ManagerKind,
  args: readonly string[],
): string | null {
  const program = manager === "slurm" ? "sbatch" : "qsub";
  const broken = args.find((a) => LINE_BREAK_REGEXP.test(a));
  if (broken !== undefined) {
    return `Cannot pass ${describe(broken)} to ${program}: arguments cannot hold line breaks`;
  }
  return manager === "slurm" ? checkSlurmArgs(args) : checkPbsArgs(args);
}
