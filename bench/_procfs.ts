/**
 * What the comparison suite (`suite.ts`) reads about processes and folders: CPU seconds and
 * peak resident memory of one process from `/proc/<pid>/stat` and `/proc/<pid>/status`, a
 * sampler for processes that exit on their own (xargs, GNU parallel), the files of folder trees
 * (to count those a run created) and their byte sizes.
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux). */
const CLK_TCK = 100;

/** CPU time and peak resident memory of one process. */
export interface ProcUsage {
  /** User plus system CPU seconds of the process itself (not of its children). */
  cpuS: number;
  /** Peak resident set size in bytes (`VmHWM`). */
  peakRssBytes: number;
}

/**
 * Reads a live process's own CPU seconds (fields `utime` and `stime` of `/proc/<pid>/stat`) and
 * its peak resident memory (`VmHWM` of `/proc/<pid>/status`); undefined once it is gone.
 */
export function readProcUsage(pid: number): ProcUsage | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
    const ticks = Number(fields[11]) + Number(fields[12]);
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    if (!Number.isFinite(ticks) || !Number.isFinite(kb)) return undefined;
    return { cpuS: ticks / CLK_TCK, peakRssBytes: kb * 1024 };
  } catch {
    return undefined;
  }
}

/**
 * Samples {@link readProcUsage} of a process every `intervalMs` until stopped, keeping the last
 * reading: the coordinator of xargs or GNU parallel exits by itself, so its final usage can only
 * be approached (it is low by at most one interval's worth).
 */
export class ProcSampler {
  #last: ProcUsage | undefined;
  #timer: ReturnType<typeof setInterval>;
  #extra: (() => void) | undefined;

  /** Starts sampling `pid`; `onTick` runs at every sample too (progress sampling). */
  constructor(readonly pid: number, intervalMs = 100, onTick?: () => void) {
    this.#extra = onTick;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    this.#last = readProcUsage(this.pid) ?? this.#last;
    this.#extra?.();
  }

  /** Stops sampling; returns the last reading taken while the process lived. */
  stop(): ProcUsage | undefined {
    clearInterval(this.#timer);
    return this.#last;
  }
}

/** Total size in bytes of the files in a folder tree; 0 when it does not exist. */
export async function treeBytes(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) n += await treeBytes(path);
      else if (e.isFile) n += (await Deno.stat(path)).size;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return n;
}

async function listInto(dir: string, out: Set<string>): Promise<void> {
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await listInto(`${dir}/${e.name}`, out);
      else out.add(`${dir}/${e.name}`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Paths of the files (not folders) in several folder trees; missing trees are empty. */
export async function listFiles(dirs: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const d of dirs) await listInto(d, out);
  return out;
}

/**
 * Files in the trees `dirs` now that were not there in `before` (a {@link listFiles} taken
 * earlier): the files a run created and left. Files created and removed in between are not seen.
 */
export async function filesCreatedSince(before: Set<string>, dirs: string[]): Promise<number> {
  let n = 0;
  for (const f of await listFiles(dirs)) if (!before.has(f)) n++;
  return n;
}
