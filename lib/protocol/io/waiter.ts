/**
 * Wake-ups for file readers: `Deno.watchFs` for same-host writes plus an
 * adaptive poll timer (short after activity, growing to a maximum when idle)
 * for writes from other hosts, which watchers never see.
 *
 * @module
 */

/** Options of a {@link Waiter}. */
export interface WaiterOptions {
  /** Paths to watch (recursively). */
  paths: string[];
  /** Disables watching (on network filesystems, see {@link isNetworkFs}). @default false */
  pollOnly?: boolean;
  /**
   * Poll interval right after activity, ms; only without a watcher (with one, polls stay at
   * `maxMs`). @default 20
   */
  minMs?: number;
  /** Poll interval when idle, ms. @default 250 */
  maxMs?: number;
  /** Only events for which this returns true wake the reader. */
  filter?: (path: string) => boolean;
}

/**
 * Waits for the next file event or poll tick. Without a watcher the poll interval doubles
 * after each quiet wait, from `minMs` up to `maxMs`; {@link Waiter.busy} resets it.
 *
 * @example Usage
 * ```ts
 * import { Waiter } from "./waiter.ts";
 * import assert from "node:assert/strict";
 * const waiter = new Waiter({ paths: [], pollOnly: true, minMs: 1, maxMs: 5 });
 * try {
 *   await waiter.wait(); // a poll tick
 *   assert.equal(waiter.takeChanged(), null); // woken by the timer: look at everything
 *   waiter.notify(); // e.g. this process wrote something itself
 *   await waiter.wait(); // returns at once
 * } finally {
 *   waiter.close();
 * }
 * ```
 */
export class Waiter {
  #watcher: Deno.FsWatcher | undefined;
  #interval: number;
  #min: number;
  #max: number;
  #pending = false;
  #wake: (() => void) | undefined;
  #cancelTimer: (() => void) | undefined;
  #changed = new Set<string>();
  #byTimer = false;

  /** Starts watching `options.paths` unless `pollOnly` is set or the watcher cannot start. */
  constructor(options: WaiterOptions) {
    this.#min = options.minMs ?? 20;
    this.#max = options.maxMs ?? 250;
    this.#interval = this.#min;
    if (!options.pollOnly) {
      try {
        this.#watcher = Deno.watchFs(options.paths, { recursive: true });
        this.#pump(this.#watcher, options.filter);
        // Events wake the reader; the timer is only a safety net, so it stays slow.
        this.#min = this.#max;
        this.#interval = this.#max;
      } catch {
        this.#watcher = undefined;
      }
    }
  }

  async #pump(
    watcher: Deno.FsWatcher,
    filter: ((path: string) => boolean) | undefined,
  ): Promise<void> {
    try {
      for await (const event of watcher) {
        const paths = filter ? event.paths.filter(filter) : event.paths;
        if (paths.length === 0) continue;
        for (const p of paths) this.#changed.add(p);
        this.notify();
      }
    } catch {
      // Watcher closed.
    }
  }

  /** Whether a watcher is active. */
  get watching(): boolean {
    return this.#watcher !== undefined;
  }

  /** Wakes a pending or the next wait at once. */
  notify(): void {
    this.#pending = true;
    const wake = this.#wake;
    if (wake) {
      this.#wake = undefined;
      wake();
    }
  }

  /** Resets the poll interval to its minimum (call after useful work). */
  busy(): void {
    this.#interval = this.#min;
  }

  /**
   * Paths the watcher reported since the last call, or null when the last
   * wake came from the poll timer (or nothing is watched): then the caller
   * must look at everything, since writes from other hosts raise no events.
   */
  takeChanged(): Set<string> | null {
    const changed = this.#changed;
    this.#changed = new Set();
    return this.#byTimer || !this.#watcher ? null : changed;
  }

  /** Resolves on the next event or when the poll interval passes. */
  wait(): Promise<void> {
    this.#byTimer = false;
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    const delay = this.#interval;
    this.#interval = Math.min(this.#max, this.#interval * 2);
    return new Promise((resolve) => {
      this.#cancelTimer = this.#arm(delay, () => {
        this.#wake = undefined;
        this.#byTimer = true;
        resolve();
      });
      this.#wake = () => {
        this.#cancelTimer?.();
        this.#pending = false;
        resolve();
      };
    });
  }

  /**
   * Calls `fn` after `ms`; returns the cancel. With a watcher, whose pending read keeps the
   * process alive, the timer is an unreferenced `AbortSignal.timeout`: Deno's first
   * `setTimeout` in a process costs about 6 ms, a third of a whole client command.
   */
  #arm(ms: number, fn: () => void): () => void {
    if (!this.#watcher) {
      const id = setTimeout(fn, ms);
      return () => clearTimeout(id);
    }
    const signal = AbortSignal.timeout(ms);
    signal.addEventListener("abort", fn, { once: true });
    return () => signal.removeEventListener("abort", fn);
  }

  /** Stops watching and any pending timer. */
  close(): void {
    this.#cancelTimer?.();
    this.#watcher?.close();
    this.#watcher = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * The real path of `path`, symlinks resolved: a directory that does not exist yet takes the
 * real path of its nearest existing ancestor.
 */
function realPathOfNearest(path: string): string {
  const rest: string[] = [];
  let head = path;
  for (;;) {
    try {
      const real = Deno.realPathSync(head);
      return rest.length === 0 ? real : `${real.replace(/\/$/, "")}/${rest.reverse().join("/")}`;
    } catch {
      const slash = head.lastIndexOf("/");
      if (slash <= 0) return path;
      rest.push(head.slice(slash + 1));
      head = head.slice(0, slash);
    }
  }
}

const NETWORK_FS = new Set(["nfs", "nfs4", "lustre", "gpfs", "beegfs", "cifs", "smb3", "9p"]);

/**
 * Whether `path` lives on a network filesystem (from `/proc/self/mountinfo`),
 * where watching sees nothing from other hosts. `fuse.*` counts as network.
 * Without `/proc` (not Linux) the answer is false.
 *
 * @example Usage
 * ```ts
 * import { isNetworkFs } from "./waiter.ts";
 * import assert from "node:assert/strict";
 * // procfs is local wherever it exists; without /proc the answer is false anyway.
 * assert.equal(isNetworkFs("/proc/self"), false);
 * ```
 */
export function isNetworkFs(path: string): boolean {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/self/mountinfo");
  } catch {
    return false;
  }
  path = realPathOfNearest(path);
  let best = "";
  let bestType = "";
  for (const line of text.split("\n")) {
    const parts = line.split(" ");
    const mountPoint = parts[4];
    const dash = parts.indexOf("-");
    if (!mountPoint || dash < 0) continue;
    const fsType = parts[dash + 1] ?? "";
    const mp = mountPoint.replace(/\\040/g, " ");
    if (
      (path === mp || path.startsWith(mp.endsWith("/") ? mp : mp + "/")) && mp.length >= best.length
    ) {
      best = mp;
      bestType = fsType;
    }
  }
  return NETWORK_FS.has(bestType) || bestType.startsWith("fuse.");
}
