/**
 * A client's reply channel, reading side: the replies the server wrote since the last read,
 * and the ways to wait for more, quick looks first, then a watcher.
 *
 * @module
 */
import { sleepSync } from "../../common/io/mod.ts";
import { CHANNEL } from "../../protocol/mod.ts";
import {
  ChannelReader,
  type ChannelReadResult,
  isNetworkFs,
  segmentPath,
  Waiter,
} from "../../protocol/io/mod.ts";

/** Looks for a reply before a watcher starts (see {@link Replies.expectSoon}). */
const QUICK_LOOKS = 8;
/** The pause between two quick looks, ms. */
const QUICK_LOOK_MS = 0.25;

const SEGMENT_0 = segmentPath("", CHANNEL.reply, 0).slice(1);
const NOTHING: ChannelReadResult = {
  records: [],
  corrupt: [],
  position: { segment: 0, offset: 0 },
  rotatedPast: [],
};

/** Whether the folder `dir` holds an entry named `name` (true when it cannot be listed). */
function lists(dir: string, name: string): boolean {
  try {
    for (const entry of Deno.readDirSync(dir)) if (entry.name === name) return true;
  } catch {
    // gone: the read that follows tells
    return true;
  }
  return false;
}

/** The reply channel in the client's folder `dir` of the instance at `root`. */
export class Replies {
  readonly #dir: string;
  readonly #root: string;
  readonly #pollOnly: boolean | undefined;
  #netfs: boolean | undefined;
  #reader: ChannelReader | undefined;
  #waiter: Waiter | undefined;
  #seen = false;
  #quick = 0;

  /** `pollOnly` forces (or forbids) polling; by default a network filesystem polls. */
  constructor(dir: string, root: string, pollOnly: boolean | undefined) {
    this.#dir = dir;
    this.#root = root;
    this.#pollOnly = pollOnly;
  }

  /** Whether the server dir is on a network filesystem (looked up once). */
  #networkFs(): boolean {
    return this.#netfs ??= isNetworkFs(this.#root);
  }

  /**
   * A request was just posted: until a watcher runs, look for its reply a few times, a
   * quarter of a millisecond apart, before starting one ({@link Replies.quickPause}). A
   * local server answers a short request in about a millisecond, sooner than a watcher
   * starts; on a network filesystem there is no watcher to save.
   */
  expectSoon(): void {
    this.#quick = this.#waiter || this.#networkFs() ? 0 : QUICK_LOOKS;
  }

  /** Pauses for the next quick look; false (at once) when none is left. */
  quickPause(): boolean {
    if (this.#quick <= 0) return false;
    this.#quick--;
    sleepSync(QUICK_LOOK_MS);
    return true;
  }

  /**
   * Waits for the server to write: the watcher's next event (or its poll). The first call
   * starts the watcher and returns at once: replies written before it watched raise no
   * event, so the caller reads once more.
   */
  async wait(): Promise<void> {
    if (this.#waiter) return await this.#waiter.wait();
    const pollOnly = this.#pollOnly ?? this.#networkFs();
    this.#waiter = new Waiter({ paths: [this.#dir], pollOnly, minMs: 5, maxMs: 200 });
  }

  /**
   * Reads new replies; segments read past are removed (the folder is the client's, and a
   * long-lived client would otherwise keep every reply it ever got).
   */
  async read(): Promise<ChannelReadResult> {
    if (!this.#seen && !this.#networkFs()) {
      // Listed rather than opened while it may be missing: a process's first failed open
      // costs about 0.5 ms (the error and its stack), a listing 0.1 ms. On a network
      // filesystem a listing may be cached: there the reader looks for itself.
      if (!lists(this.#dir, SEGMENT_0)) return NOTHING;
    }
    this.#seen = true;
    this.#reader ??= new ChannelReader(this.#dir, CHANNEL.reply, undefined, {
      networkFs: this.#networkFs(),
    });
    const res = await this.#reader.read();
    for (const segment of res.rotatedPast) {
      try {
        Deno.removeSync(segmentPath(this.#dir, CHANNEL.reply, segment));
      } catch {
        // gone already
      }
    }
    return res;
  }

  /** Stops the watcher. */
  close(): void {
    this.#waiter?.close();
  }
}
