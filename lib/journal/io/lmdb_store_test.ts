import assert from "node:assert/strict";
import { LmdbJournalStore } from "./lmdb_store.ts";
import { pristineTask } from "../../scheduler/mod.ts";
import { emptyBatch, JOURNAL_VERSION, JournalFormatError, JournalVersionError } from "../store.ts";

Deno.test("LmdbJournalStore keeps committed state across reopen", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = new LmdbJournalStore(dir);
    a.commit({
      meta: { format: { ...JOURNAL_VERSION }, serverUid: "u", nextJobId: 3, nextWorkerId: 2 },
      jobs: [],
      tasks: [{
        jobId: 1,
        taskId: 5,
        record: {
          state: "finished",
          instance: 0,
          crashCount: 0,
          workerId: 1,
          variant: 0,
          startedAt: 1,
          finishedAt: 2,
          error: null,
        },
      }],
      workers: [],
      offsets: [{ workerId: 1, segment: 0, offset: 120 }],
      requestsDone: [{ key: "c:1", jobId: 1 }],
      requestsForget: [],
    });
    await a.close();
    const b = new LmdbJournalStore(dir);
    const data = b.load();
    assert.equal(data.meta?.nextJobId, 3);
    assert.equal(data.tasks[0]!.record.state, "finished");
    assert.deepEqual(data.offsets, [{ workerId: 1, segment: 0, offset: 120 }]);
    assert.deepEqual(data.requests, [{ key: "c:1", jobId: 1 }]);
    b.commit({
      jobs: [],
      tasks: [],
      workers: [],
      offsets: [],
      requestsDone: [],
      requestsForget: ["c:1"],
    });
    assert.deepEqual(b.load().requests, []);
    b.commit({
      meta: { format: { major: 99, minor: 0 }, serverUid: "u", nextJobId: 3, nextWorkerId: 2 },
      jobs: [],
      tasks: [],
      workers: [],
      offsets: [],
      requestsDone: [],
      requestsForget: [],
    });
    await b.close();
    assert.throws(() => new LmdbJournalStore(dir), JournalVersionError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LmdbJournalStore refuses a foreign file instead of crashing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/journal.bin`;
    await Deno.writeTextFile(file, "this is not a journal, just some text that is long enough\n");
    assert.throws(
      () => new LmdbJournalStore(file),
      (e: unknown) =>
        e instanceof JournalFormatError &&
        e.message ===
          `Cannot open journal "${file}": it is not a journal written by this program (no LMDB header)`,
    );
    await Deno.mkdir(`${dir}/env`);
    await Deno.writeTextFile(`${dir}/env/data.mdb`, "garbage ".repeat(20));
    assert.throws(() => new LmdbJournalStore(`${dir}/env`), JournalFormatError);
    // A journal in a file of its own opens, and opens again.
    const store = new LmdbJournalStore(`${dir}/own.journal`);
    await store.close();
    await new LmdbJournalStore(`${dir}/own.journal`).close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LmdbJournalStore removes a forgotten job with all its tasks, and only those", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new LmdbJournalStore(dir);
    const record = {
      state: "finished" as const,
      instance: 0,
      crashCount: 0,
      workerId: 1,
      variant: 0,
      startedAt: 1,
      finishedAt: 2,
      error: null,
    };
    const job = (id: number) => ({
      id,
      name: "j",
      submitDir: "/tmp",
      submittedAt: 0,
      maxFails: null,
      template: {} as never,
      ids: [{ start: 0, end: 2 }],
      cancelReason: null,
      completedAt: 3,
    });
    const empty = { workers: [], offsets: [], requestsDone: [], requestsForget: [] };
    store.commit({
      ...empty,
      jobs: [job(1), job(2), job(10)],
      tasks: [1, 2, 10].flatMap((jobId) => [0, 1, 2].map((taskId) => ({ jobId, taskId, record }))),
    });
    store.commit({ ...empty, jobs: [], tasks: [], jobsRemoved: [1] });
    const data = store.load();
    assert.deepEqual(data.jobs.map((j) => j.id), [2, 10]);
    assert.deepEqual(
      data.tasks.map((t) => `${t.jobId}:${t.taskId}`),
      ["2:0", "2:1", "2:2", "10:0", "10:1", "10:2"],
    );
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LmdbJournalStore.recover() reopens the environment: committed state stays, commits go on", async () => {
  const dir = await Deno.makeTempDir();
  const batch = (nextJobId: number) => ({
    ...emptyBatch(),
    meta: { format: { ...JOURNAL_VERSION }, serverUid: "u", nextJobId, nextWorkerId: 1 },
  });
  try {
    const store = new LmdbJournalStore(dir);
    store.commit(batch(2));
    await store.recover();
    assert.equal(store.load().meta?.nextJobId, 2);
    store.commit(batch(3));
    await store.flush();
    assert.equal(store.load().meta?.nextJobId, 3);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LmdbJournalStore keeps bulk task entries, drops them with their job, and reads 2.x journals", async () => {
  const dir = await Deno.makeTempDir();
  const record = { ...pristineTask(), state: "canceled" as const, finishedAt: 9 };
  const empty = emptyBatch();
  try {
    const a = new LmdbJournalStore(dir);
    a.commit({
      ...empty,
      // A journal written by a 2.x server: still restored.
      meta: { format: { major: 2, minor: 3 }, serverUid: "u", nextJobId: 3, nextWorkerId: 1 },
      bulk: [
        { jobId: 1, ranges: [{ start: 0, end: 999_999 }], record },
        { jobId: 2, ranges: [{ start: 4, end: 6 }, { start: 9, end: 9 }], record },
      ],
    });
    await a.close();
    const b = new LmdbJournalStore(dir);
    assert.deepEqual(b.load().bulk?.map((k) => [k.jobId, k.ranges.length]), [[1, 1], [2, 2]]);
    b.commit({ ...empty, jobsRemoved: [1] });
    assert.deepEqual(b.load().bulk?.map((k) => k.jobId), [2]);
    await b.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
