/**
 * Smoke test for the single-node SLURM made by `tools/slurm.sh start`: a
 * batch job runs to COMPLETED and leaves its file; a running job is
 * CANCELLED by scancel. Later autoalloc end-to-end tests rely on exactly this.
 */
import { join } from "node:path";
import { requirement, slurmAvailable } from "./_env.ts";

const req = requirement(
  slurmAvailable(),
  "a running single-node SLURM (tools/slurm.sh start)",
);

const decoder = new TextDecoder();
const JOB_ID_REGEXP = /^(\d+)(;.*)?$/;
const JOB_STATE_REGEXP = /\bJobState=(\S+)/;

/** Runs a SLURM client command; resolves with its exit code and decoded output. */
async function slurm(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Submits `script` with `sbatch --parsable`; returns the job id. */
async function submit(script: string, args: string[]): Promise<string> {
  const out = await slurm("sbatch", ["--parsable", ...args, script]);
  const id = JOB_ID_REGEXP.exec(out.stdout.trim())?.[1];
  if (out.code !== 0 || id === undefined) {
    throw new Error(`Cannot submit ${script}: sbatch exited ${out.code}: ${out.stderr.trim()}`);
  }
  return id;
}

/** The job's `JobState` as `scontrol show job` reports it, or undefined if not listed. */
async function jobState(id: string): Promise<string | undefined> {
  const out = await slurm("scontrol", ["show", "job", id]);
  return out.code === 0 ? JOB_STATE_REGEXP.exec(out.stdout)?.[1] : undefined;
}

/** Polls until job `id` is in state `want`; throws after `timeoutMs`, naming the last state. */
async function waitState(id: string, want: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    last = await jobState(id);
    if (last === want) return;
    if (Date.now() >= deadline) {
      throw new Error(`Job ${id} did not reach ${want} within ${timeoutMs} ms: state is ${last}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Cancels every job in `ids` (scancel exits 0 for finished or unknown jobs). */
async function cancelAll(ids: string[]): Promise<void> {
  if (ids.length > 0) await slurm("scancel", ids);
}

Deno.test({
  name: "slurm: an sbatch job runs to COMPLETED and writes its file",
  ignore: req.ignore,
  fn: async () => {
    req.check();
    const dir = await Deno.makeTempDir({ prefix: "hq-slurm-smoke-" });
    const submitted: string[] = [];
    try {
      const marker = join(dir, "done.txt");
      const script = join(dir, "job.sh");
      await Deno.writeTextFile(script, `#!/bin/sh\necho "job $SLURM_JOB_ID" > '${marker}'\n`);
      const id = await submit(script, ["-J", "hq-smoke", "-t", "1", "-o", join(dir, "%j.out")]);
      submitted.push(id);
      await waitState(id, "COMPLETED", 20_000);
      if (!await exists(marker)) throw new Error(`Job ${id} completed but ${marker} is missing`);
      const text = await Deno.readTextFile(marker);
      if (text !== `job ${id}\n`) throw new Error(`Job ${id} wrote ${JSON.stringify(text)}`);
    } finally {
      await cancelAll(submitted);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "slurm: scancel turns a RUNNING job into CANCELLED",
  ignore: req.ignore,
  fn: async () => {
    req.check();
    const dir = await Deno.makeTempDir({ prefix: "hq-slurm-smoke-" });
    const submitted: string[] = [];
    try {
      const script = join(dir, "sleep.sh");
      await Deno.writeTextFile(script, "#!/bin/sh\nsleep 300\n");
      const id = await submit(script, ["-J", "hq-smoke-sleep", "-t", "10", "-o", "/dev/null"]);
      submitted.push(id);
      await waitState(id, "RUNNING", 20_000);
      const cancel = await slurm("scancel", [id]);
      if (cancel.code !== 0) {
        throw new Error(`scancel ${id} exited ${cancel.code}: ${cancel.stderr}`);
      }
      await waitState(id, "CANCELLED", 10_000);
    } finally {
      await cancelAll(submitted);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
