/**
 * Measurement pieces of `bench/main.ts`: worker appearance, submit-to-start
 * latency, timeouts with diagnostics.
 *
 * @module
 */
import { buildSubmit, type HqClient } from "../mod.ts";
import { DENO, HQ_TS, nowMs, type Proc, run, sleep, waitNewWorker } from "./_util.ts";

/** Measures worker appearance `reps` times; leaves the last worker running. */
export async function measureAppearance(
  client: HqClient,
  spawn: (i: number) => Proc,
  reps: number,
): Promise<{ samples: number[]; worker: Proc }> {
  const known = new Set((await client.listWorkers()).map((w) => w.id));
  const samples: number[] = [];
  let worker: Proc | undefined;
  for (let i = 0; i < reps; i++) {
    if (worker) {
      await worker.stop();
      await sleep(300);
    }
    const t0 = nowMs();
    worker = spawn(i);
    const { id, at } = await waitNewWorker(client, known, worker);
    samples.push(at - t0);
    known.add(id);
  }
  // Only the last worker may take tasks from here on.
  for (let i = 0; i < 200; i++) {
    const running = (await client.listWorkers()).filter((w) => w.state === "running");
    if (running.length === 1) break;
    await sleep(50);
  }
  return { samples, worker: worker! };
}

/** Submit-to-start latency of a one-task job, `reps` times. */
export async function measureLatency(
  client: HqClient,
  submitDir: string,
  stampDir: string,
  reps: number,
  diag: () => Promise<string>,
  idleMs: number,
): Promise<{ samples: number[]; submitMs: number[] }> {
  const samples: number[] = [];
  const submitMs: number[] = [];
  for (let i = 0; i < reps; i++) {
    await sleep(idleMs); // let the worker's poll interval grow to its idle maximum
    const out = `${stampDir}/start-${i}`;
    const { job } = buildSubmit(
      { stdout: "none", stderr: "none" },
      ["bash", "-c", `date +%s%N > '${out}'`],
      submitDir,
    );
    const t0 = nowMs();
    const id = await withTimeout(client.submit(job), 30000, "latency submit", diag);
    submitMs.push(nowMs() - t0);
    const [info] = await withTimeout(client.wait(String(id)), 30000, `latency job ${id}`, diag);
    if (!info || info.task_stats.finished !== 1) {
      throw new Error(`latency job ${id} did not finish: ${JSON.stringify(info)}`);
    }
    const ns = BigInt((await Deno.readTextFile(out)).trim());
    const startMs = Number(ns / 1000n) / 1000;
    samples.push(startMs - t0);
  }
  return { samples, submitMs };
}

/** Rejects after `ms` with `diag()` output when `p` has not settled. */
export async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  what: string,
  diag: () => Promise<string>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } catch (e) {
    let d = "";
    try {
      d = await diag();
    } catch (e2) {
      d = `(diagnostics failed: ${e2})`;
    }
    throw new Error(`${(e as Error).message}\n${d}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Process output tails plus CLI views of workers and jobs. */
export function diagnostics(serverDir: string, procs: () => Proc[]): () => Promise<string> {
  return async () => {
    const parts: string[] = [];
    for (const p of procs()) {
      parts.push(`--- ${p.name} (pid ${p.pid}) output tail:\n${p.log.slice(-8000)}`);
    }
    for (const args of [["worker", "list", "--all"], ["job", "list", "--all"]]) {
      try {
        const out = await withTimeout(
          run(DENO, ["run", "-A", HQ_TS, ...args, "--server-dir", serverDir]),
          10000,
          args.join(" "),
          () => Promise.resolve(""),
        );
        parts.push(`--- hq ${args.join(" ")}:\n${out}`);
      } catch (e) {
        parts.push(`--- hq ${args.join(" ")} failed: ${e}`);
      }
    }
    return parts.join("\n");
  };
}
