/**
 * Asks the batch system how much walltime the allocation a worker runs in
 * has left (see `../walltime.ts`).
 *
 * @module
 */
import { pbsRemainingMs, slurmRemainingMs } from "../mod.ts";

/**
 * Remaining walltime of the allocation `manager` names, ms; null when the
 * batch system cannot tell (no command, unknown job, no limit).
 */
export async function remainingWalltimeMs(
  manager: { kind: "slurm" | "pbs"; jobId: string },
): Promise<number | null> {
  const [program, args] = manager.kind === "slurm"
    ? ["scontrol", ["show", "job", manager.jobId]] as const
    : ["qstat", ["-f", "-F", "json", manager.jobId]] as const;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(program, { args: [...args], stdin: "null", stderr: "null" })
      .output();
  } catch {
    return null;
  }
  if (!out.success) return null;
  const text = new TextDecoder().decode(out.stdout);
  return manager.kind === "slurm"
    ? slurmRemainingMs(text, Date.now())
    : pbsRemainingMs(text, manager.jobId);
}
