/**
 * A long-running child process (server, worker) whose output is kept, and
 * that is stopped through its own handle: SIGTERM, then SIGKILL after a
 * grace period. Shared by the end-to-end tests and the benchmarks.
 *
 * @module
 */

const decoder = new TextDecoder();

/** A long-running child process with its output kept (stdout and stderr tagged by line). */
export class Proc {
  /** Everything the process wrote so far (stdout and stderr interleaved by chunk). */
  log = "";
  /** Resolves when the process exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Set once the process exited. */
  exited: Deno.CommandStatus | undefined;
  private readonly drained: Promise<void>;

  constructor(readonly name: string, readonly child: Deno.ChildProcess) {
    const drain = async (stream: ReadableStream<Uint8Array>, tag: string) => {
      try {
        for await (const chunk of stream) {
          this.log += decoder.decode(chunk, { stream: true }).replace(/^(?=.)/gm, `[${tag}] `);
        }
      } catch {
        // stream closed
      }
    };
    this.drained = Promise.all([
      drain(child.stdout, "out"),
      drain(child.stderr, "err"),
    ]).then(() => {});
    this.status = child.status.then((s) => {
      this.exited = s;
      return s;
    });
  }

  /** Process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** Sends a signal if the process still runs. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.exited) return;
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Stops the process: SIGTERM, then SIGKILL after `graceMs`; waits for its exit and output. */
  async stop(graceMs = 3000): Promise<Deno.CommandStatus> {
    if (!this.exited) {
      this.kill("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = await Promise.race([
        this.status.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (killed) this.kill("SIGKILL");
    }
    const s = await this.status;
    await this.drained;
    return s;
  }
}
