import assert from "node:assert/strict";
import { MemoryJournalStore } from "../../journal/store.ts";
import type { JournalBatch } from "../../journal/mod.ts";
import { persist } from "./persist.ts";
import { LeaseLostError } from "./lease_keeper.ts";

const BATCH: JournalBatch = {
  jobs: [],
  tasks: [],
  workers: [],
  offsets: [{ workerId: 1, segment: 0, offset: 10 }],
  requestsDone: [],
  requestsForget: [],
};

/** A store whose commits fail `n` times with ENOSPC-like errors (with changing details). */
class FullDisk extends MemoryJournalStore {
  failures: number;
  /** Calls of `recover()` (a reopen after each failed commit). */
  recovered = 0;
  constructor(failures: number) {
    super();
    this.failures = failures;
  }
  override commit(batch: JournalBatch): void {
    if (this.failures-- > 0) {
      throw new Error(`No space left on device: page at ${Math.random()}`);
    }
    super.commit(batch);
  }
  recover(): Promise<void> {
    this.recovered++;
    return Promise.resolve();
  }
}

Deno.test("persist() retries a failed commit until it succeeds, logging the cause once", async () => {
  const store = new FullDisk(3);
  const log: string[] = [];
  const ok = await persist(store, BATCH, true, {
    log: (l) => log.push(l),
    giveUp: () => false,
    retryMs: 1,
  });
  assert.equal(ok, true);
  assert.deepEqual(store.load().offsets, BATCH.offsets);
  assert.equal(store.recovered, 3, "the store is reopened after each failed commit");
  assert.equal(log.length, 2, log.join("\n"));
  assert.match(log[0]!, /could not write the journal \(commit\): No space left on device/);
  assert.equal(log[1], "[server] the journal is written again");
});

Deno.test("persist() gives up only when asked, and never on a lost lease", async () => {
  let tries = 0;
  const store = new FullDisk(1000);
  const ok = await persist(store, BATCH, false, {
    log: () => {},
    giveUp: () => ++tries >= 3,
    retryMs: 1,
  });
  assert.equal(ok, false);
  assert.deepEqual(store.load().offsets, []);
  const lost = new MemoryJournalStore();
  lost.commit = () => {
    throw new LeaseLostError("another server holds the instance");
  };
  await assert.rejects(
    persist(lost, BATCH, false, { log: () => {}, giveUp: () => false, retryMs: 1 }),
    LeaseLostError,
  );
});
