/**
 * The journal store refuses a commit that may not fit before LMDB writes (LMDB's own failed
 * write can corrupt the process's memory). Needs root, to mount a small tmpfs.
 */
import assert from "node:assert/strict";
import { requirement } from "./_env.ts";
import { emptyBatch, JOURNAL_VERSION } from "../lib/journal/mod.ts";
import { LmdbJournalStore } from "../lib/journal/io/mod.ts";
import { pristineTask } from "../lib/scheduler/mod.ts";

const root = requirement(Deno.uid() === 0, "root (the journal sits on a 2 MiB tmpfs)");

Deno.test({
  name: "journal: a commit that may not fit fails before LMDB writes, and the journal stays usable",
  ignore: root.ignore,
  fn: async () => {
    root.check();
    const dir = await Deno.makeTempDir({ prefix: "hq-journal-space-" });
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=2m,mode=700", "tmpfs", dir],
    }).output();
    assert.equal(mount.code, 0, "mount the tmpfs");
    try {
      const store = new LmdbJournalStore(`${dir}/journal`);
      const meta = {
        format: { ...JOURNAL_VERSION },
        serverUid: "u",
        nextJobId: 2,
        nextWorkerId: 1,
      };
      store.commit({ ...emptyBatch(), meta });
      // Task records until the filesystem cannot take another batch.
      const record = { ...pristineTask(), state: "finished" as const, finishedAt: 1 };
      let error: Error | undefined;
      let committed = 0;
      for (let batch = 0; batch < 1000 && error === undefined; batch++) {
        const tasks = Array.from({ length: 500 }, (_, i) => ({
          jobId: 1,
          taskId: batch * 500 + i,
          record,
        }));
        try {
          store.commit({ ...emptyBatch(), tasks });
          committed += tasks.length;
        } catch (e) {
          error = e as Error;
        }
      }
      assert.ok(error, "the disk filled up");
      assert.match(error.message, /^No space left on device: .*\(checked before writing\)$/);
      assert.ok(committed > 0, "some batches fit");
      // Nothing was written through LMDB's failing path: the store needs no reopening.
      await store.recover();
      assert.equal(store.load().tasks.length, committed);
      await store.close();
    } finally {
      const umount = await new Deno.Command("umount", { args: [dir] }).output();
      if (umount.code !== 0) await new Deno.Command("umount", { args: ["-l", dir] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
