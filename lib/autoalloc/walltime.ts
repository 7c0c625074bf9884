/**
 * How much walltime an allocation has left, read from the batch system's own
 * description of the job, so that a worker started inside one by hand (with
 * `--manager` and no `--time-limit`) still stops in time and the scheduler
 * honours time requests against it. Pure: the caller runs the command.
 *
 * @module
 */

const HMS = /^(\d+):(\d{2}):(\d{2})$/;

function hmsMs(text: unknown): number | null {
  const m = typeof text === "string" ? HMS.exec(text) : null;
  return m ? ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 : null;
}

/**
 * Remaining walltime from `scontrol show job <id>` of a running job: its
 * `EndTime`, in the local time of the node (SLURM prints local times), minus
 * `now`. Null when the output has no usable end time.
 *
 * @example Usage
 * ```ts
 * import { slurmRemainingMs } from "./walltime.ts";
 * import assert from "node:assert/strict";
 * const text = "JobId=4 JobName=x\n   StartTime=2026-12-03T07:10:41 EndTime=2026-12-03T07:20:41\n";
 * const now = new Date("2026-12-03T07:15:41").getTime();
 * assert.equal(slurmRemainingMs(text, now), 300_000);
 * assert.equal(slurmRemainingMs("JobId=4 EndTime=Unknown", now), null);
 * ```
 */
export function slurmRemainingMs(stdout: string, now: number): number | null {
  const m = /\bEndTime=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\b/.exec(stdout);
  if (!m) return null;
  // An ISO text without a zone is local time, as SLURM prints it.
  const end = new Date(m[1]!).getTime();
  return Number.isFinite(end) ? Math.max(0, end - now) : null;
}

/**
 * Remaining walltime from `qstat -f -F json <id>`: the job's
 * `Resource_List.walltime` minus `resources_used.walltime`. Null when the
 * output does not describe the job or has no walltime.
 *
 * @example Usage
 * ```ts
 * import { pbsRemainingMs } from "./walltime.ts";
 * import assert from "node:assert/strict";
 * const job = { Resource_List: { walltime: "01:00:00" }, resources_used: { walltime: "00:10:00" } };
 * assert.equal(pbsRemainingMs(JSON.stringify({ Jobs: { "7.srv": job } }), "7.srv"), 3_000_000);
 * assert.equal(pbsRemainingMs("{}", "7.srv"), null);
 * ```
 */
export function pbsRemainingMs(stdout: string, jobId: string): number | null {
  let doc: { Jobs?: Record<string, Record<string, Record<string, unknown>>> };
  try {
    doc = JSON.parse(stdout);
  } catch {
    return null;
  }
  const job = doc.Jobs?.[jobId] ?? Object.values(doc.Jobs ?? {})[0];
  const limit = hmsMs(job?.Resource_List?.walltime);
  if (limit === null) return null;
  return Math.max(0, limit - (hmsMs(job?.resources_used?.walltime) ?? 0));
}
