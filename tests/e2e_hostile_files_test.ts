/**
 * Files planted by another user in a server directory are never used: a
 * channel segment owned by someone else is refused, whatever valid records it
 * holds. Needs root (to hand files to `nobody`).
 */
import assert from "node:assert/strict";
import { tempDir } from "../lib/common/io/mod.ts";
import { join } from "node:path";
import { requirement } from "./_env.ts";
import { Cluster, sleep, waitFor } from "./_harness.ts";
import { ChannelReader, ChannelWriter, ForeignFileError } from "../lib/protocol/io/mod.ts";
import { encodeRecords, PROTOCOL_VERSION } from "../lib/protocol/mod.ts";

const NOBODY = 65534;
const root = requirement(Deno.uid() === 0, "root (files are handed to nobody with chown)");

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  await using dir = await tempDir();
  await fn(dir.path);
}

Deno.test({
  name: "a channel reader refuses a segment owned by another user, kept open or not",
  ignore: root.ignore,
  fn: async () => {
    root.check();
    await withDir(async (dir) => {
      await Deno.writeFile(`${dir}/log.0.log`, encodeRecords(['"evil"']));
      await Deno.chown(`${dir}/log.0.log`, NOBODY, NOBODY);
      for (const keepOpen of [false, true]) {
        const reader = new ChannelReader(dir, "log", undefined, { keepOpen });
        const read = await reader.read();
        assert.deepEqual(read.records, []);
        assert.match(read.corrupt[0]?.reason ?? "", /owned by uid 65534, not 0/);
        reader.close();
      }
    });
  },
});

Deno.test({
  name: "a channel writer refuses a next segment planted by another user",
  ignore: root.ignore,
  fn: async () => {
    root.check();
    await withDir(async (dir) => {
      const writer = new ChannelWriter(dir, "log", { segmentBytes: 1 });
      await writer.append(['"a"']);
      await Deno.writeFile(`${dir}/log.1.log`, encodeRecords(['"evil"']));
      await Deno.chown(`${dir}/log.1.log`, NOBODY, NOBODY);
      await assert.rejects(writer.append(['"b"']), ForeignFileError);
      const read = await new ChannelReader(dir, "log").read();
      assert.deepEqual(read.records.map((r) => r.payload), ['"a"'], "no rotation into it");
    });
  },
});

Deno.test({
  name: "e2e: a server that takes over refuses a worker channel another user replaced",
  ignore: root.ignore,
  fn: async () => {
    root.check();
    await using c = await Cluster.create();
    await c.withLogs(async () => {
      const first = c.startServer();
      await c.waitServerReady();
      c.startWorker(["--cpus", "1", "--server-lost-timeout", "2m"]);
      await c.waitWorkers(1);
      const job = await c.submit(["--", "sleep", "30"]);
      await waitFor(async () => (await c.tasks(job))[0]?.state === "running", 20000, "running");
      first.kill("SIGKILL");
      await first.status;
      // While no server runs, another user swaps in a copy of the worker's channel that
      // reports the task finished.
      const workers = join(c.serverDir, "001", "workers");
      const key = [...Deno.readDirSync(workers)][0]!.name;
      const segment = join(workers, key, "to-server.0.log");
      const forged = JSON.stringify({
        v: PROTOCOL_VERSION,
        kind: "taskUpdates",
        updates: [{ kind: "finished", jobId: job, id: 0, instance: 0, at: Date.now() }],
      });
      const planted = `${segment}.planted`;
      await Deno.writeFile(planted, await Deno.readFile(segment));
      await Deno.writeFile(planted, encodeRecords([forged]), { append: true });
      await Deno.chown(planted, NOBODY, NOBODY);
      await Deno.rename(planted, segment);
      c.startServer();
      await c.waitServerReady();
      await waitFor(() => c.logs().includes("owned by uid 65534"), 10000, "the refusal logged");
      await sleep(500);
      assert.notEqual((await c.tasks(job))[0]?.state, "finished", "the forged result was ignored");
      assert.equal((await c.hq(["job", "list"])).code, 0, "the server still answers");
    });
  },
});
