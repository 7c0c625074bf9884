import assert from "node:assert/strict";
import { ownProcessIdentity, tempDir } from "../../common/io/mod.ts";
import { JournalInUseError, journalOwnerPath, lockJournal } from "./journal_lock.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  await using dir = await tempDir();
  await fn(dir.path);
}

Deno.test({
  name: "lockJournal() refuses a live owner and gives the journal back on unlock",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await withDir(async (dir) => {
      const journal = `${dir}/hq.journal`;
      const unlock = await lockJournal(journal, `${dir}/sd1`);
      await assert.rejects(
        lockJournal(journal, `${dir}/sd2`),
        new JournalInUseError(
          `Cannot use journal "${journal}": the server of "${dir}/sd1" (pid ${Deno.pid}) writes it`,
        ),
      );
      unlock();
      assert.throws(() => Deno.statSync(journalOwnerPath(journal)), Deno.errors.NotFound);
      (await lockJournal(journal, `${dir}/sd2`))();
    });
  },
});

Deno.test({
  name: "lockJournal() takes over from an owner whose pid now belongs to another process",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await withDir(async (dir) => {
      const journal = `${dir}/hq.journal`;
      const me = ownProcessIdentity();
      const stale = {
        host: me.host,
        pid: Deno.pid,
        process: { ...me, startTicks: (me.startTicks ?? 0) + 1 },
        serverDir: `${dir}/old`,
        token: "old",
      };
      await Deno.writeTextFile(journalOwnerPath(journal), JSON.stringify(stale));
      const unlock = await lockJournal(journal, `${dir}/sd`);
      const owner = JSON.parse(await Deno.readTextFile(journalOwnerPath(journal)));
      assert.equal(owner.serverDir, `${dir}/sd`);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["hq.journal.owner"]);
      unlock();
    });
  },
});
