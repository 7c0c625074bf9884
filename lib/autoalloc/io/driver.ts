/**
 * Runs automatic allocation's actions against the batch system: writes
 * allocation directories and scripts, calls `sbatch`/`qsub`, `scontrol`/
 * `qstat`, `scancel`/`qdel` (found on `PATH`, so site wrappers and test
 * stand-ins work), and reports what happened as events for the next round.
 * Actions run concurrently with the server's rounds; nothing here blocks one.
 *
 * @module
 */
import { assertNever } from "../../common/mod.ts";
import {
  type AutoallocAction,
  type AutoallocEvent,
  type ManagerKind,
  parseQstatJson,
  parseQsubOutput,
  parseSbatchOutput,
  parseScontrolShowJob,
} from "../mod.ts";

/** Options of {@link AutoallocDriver}. */
export interface DriverOptions {
  /** Called when an event is ready (the server wakes up for it). */
  onEvent: () => void;
  /** Log sink. */
  log: (line: string) => void;
}

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function command(program: string, args: string[], cwd?: string): Promise<CommandResult> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(program, {
      args,
      ...(cwd === undefined ? {} : { cwd }),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${program} was not found on PATH` };
    }
    return { code: 126, stdout: "", stderr: `${program}: ${(e as Error).message}` };
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The error a failed command reports: its stderr (or stdout) trimmed, else its exit code. */
function failure(program: string, r: CommandResult): string {
  const text = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join(" ").trim();
  return text || `${program} exited with code ${r.code}`;
}

/** Throws when a file the script runs is missing (checked on this machine, before submitting). */
function checkRequired(paths: readonly string[]): void {
  for (const path of paths) {
    try {
      Deno.statSync(path);
    } catch {
      throw new Error(`the worker program ${path} does not exist`);
    }
  }
}

/** Writes the directory and script of an allocation; returns the script's path. */
async function writeScript(dir: string, script: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const path = `${dir}/hq-submit.sh`;
  await Deno.writeTextFile(path, script, { mode: 0o755 });
  return path;
}

/** Submits the script in `dir`; returns the job id or throws the batch system's error. */
async function submit(manager: ManagerKind, dir: string): Promise<string> {
  const program = manager === "slurm" ? "sbatch" : "qsub";
  const r = await command(program, ["hq-submit.sh"], dir);
  if (r.code !== 0) throw new Error(failure(program, r));
  const id = manager === "slurm" ? parseSbatchOutput(r.stdout) : parseQsubOutput(r.stdout);
  await Deno.writeTextFile(`${dir}/jobid`, `${id}\n`);
  return id;
}

async function cancel(manager: ManagerKind, ids: string[]): Promise<string | null> {
  if (ids.length === 0) return null;
  const program = manager === "slurm" ? "scancel" : "qdel";
  const r = await command(program, ids);
  return r.code === 0 ? null : failure(program, r);
}

type StatusEvent = Extract<AutoallocEvent, { kind: "status" }>;

async function status(manager: ManagerKind, ids: string[]): Promise<AutoallocEvent> {
  const states: StatusEvent["states"] = [];
  if (manager === "slurm") {
    // `scontrol show job` takes one id at a time.
    for (const id of ids) {
      const r = await command("scontrol", ["show", "job", id]);
      if (r.code !== 0) {
        if (/Invalid job id/i.test(r.stderr)) {
          // Forgotten by SLURM: it ended long ago.
          states.push({ id, state: "finished", reason: "SLURM no longer knows it" });
          continue;
        }
        return { kind: "statusFailed", manager, ids, error: failure("scontrol", r) };
      }
      const s = parseScontrolShowJob(r.stdout).get(id);
      states.push({ id, state: s?.state ?? null, reason: s ? reasonOf(s) : null });
    }
    return { kind: "status", manager, states };
  }
  const r = await command("qstat", ["-f", "-F", "json", "-x", ...ids]);
  if (r.code !== 0 && r.stdout.trim() === "") {
    return { kind: "statusFailed", manager, ids, error: failure("qstat", r) };
  }
  const found = parseQstatJson(r.stdout);
  for (const id of ids) {
    const s = found.get(id);
    states.push({ id, state: s?.state ?? null, reason: s ? reasonOf(s) : null });
  }
  return { kind: "status", manager, states };
}

function reasonOf(s: { managerState: string; exitCode?: number | null; reason?: string }): string {
  const parts = [s.managerState];
  if (s.exitCode !== undefined && s.exitCode !== null) parts.push(`exit code ${s.exitCode}`);
  if (s.reason) parts.push(s.reason);
  return parts.join(", ");
}

/**
 * Runs actions in the background and collects their events.
 *
 * @example Usage
 * ```ts
 * import { AutoallocDriver } from "./driver.ts";
 * import assert from "node:assert/strict";
 * let woken = 0;
 * const driver = new AutoallocDriver({ onEvent: () => woken++, log: () => {} });
 * // No batch system here: the status query fails, and says why.
 * const env = Deno.env.get("PATH");
 * Deno.env.set("PATH", "/nonexistent");
 * try {
 *   driver.run({ kind: "status", manager: "pbs", ids: ["1.server"] });
 *   await driver.idle();
 * } finally {
 *   Deno.env.set("PATH", env ?? "");
 * }
 * const [event] = driver.take();
 * assert.equal(event?.kind, "statusFailed");
 * assert.equal(woken, 1);
 * ```
 */
export class AutoallocDriver {
  #events: AutoallocEvent[] = [];
  #running = new Set<Promise<void>>();
  #options: DriverOptions;

  /** A driver that reports through `options`. */
  constructor(options: DriverOptions) {
    this.#options = options;
  }

  /** Starts an action; its event arrives through {@link AutoallocDriver.take}. */
  run(action: AutoallocAction): void {
    const p = this.#do(action).then(
      (event) => {
        if (event) this.#push(event);
      },
      (e) => this.#options.log(`[autoalloc] ${action.kind} failed: ${(e as Error).message}`),
    ).finally(() => this.#running.delete(p));
    this.#running.add(p);
  }

  /** Events since the last call. */
  take(): AutoallocEvent[] {
    return this.#events.splice(0);
  }

  /** Resolves when every started action has ended. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  #push(event: AutoallocEvent): void {
    this.#events.push(event);
    this.#options.onEvent();
  }

  async #do(action: AutoallocAction): Promise<AutoallocEvent | null> {
    const { log } = this.#options;
    switch (action.kind) {
      case "submit": {
        const { queueId, manager, dir, workerCount } = action;
        try {
          checkRequired(action.requires);
          await writeScript(dir, action.script);
          const id = await submit(manager, dir);
          return { kind: "submitted", queueId, manager, id, dir, workerCount };
        } catch (e) {
          return { kind: "submitFailed", queueId, dir, error: (e as Error).message, workerCount };
        }
      }
      case "cancel": {
        const error = await cancel(action.manager, action.ids);
        if (error) log(`[autoalloc] cancelling ${action.ids.join(", ")} failed: ${error}`);
        return null;
      }
      case "status":
        return await status(action.manager, action.ids);
      case "dryRun": {
        const { token, manager, dir } = action;
        let id: string;
        try {
          checkRequired(action.requires);
          await writeScript(dir, action.script);
          id = await submit(manager, dir);
        } catch (e) {
          return {
            kind: "dryRunDone",
            token,
            error: `${(e as Error).message} (script: ${dir}/hq-submit.sh)`,
          };
        }
        const error = await cancel(manager, [id]);
        if (error) log(`[autoalloc] cancelling test allocation ${id} failed: ${error}`);
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        return { kind: "dryRunDone", token, error: null };
      }
      case "removeDirs": {
        for (const dir of action.dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
        return null;
      }
      default:
        return assertNever(action, "autoalloc action");
    }
  }
}
