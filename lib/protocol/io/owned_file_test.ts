import assert from "node:assert/strict";
import { tempDir } from "../../common/io/mod.ts";
import { ForeignFileError, openOwnedSync } from "./owned_file.ts";
import { ChannelReader, ChannelWriter } from "./channel_file.ts";
import { encodeRecords } from "../framing.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  await using dir = await tempDir();
  await fn(dir.path);
}

Deno.test("openOwnedSync() refuses symbolic links, directories and creates missing files exclusively", async () => {
  await withDir(async (dir) => {
    const target = `${dir}/target`;
    await Deno.writeTextFile(target, "mine");
    await Deno.symlink(target, `${dir}/link`);
    assert.throws(() => openOwnedSync(`${dir}/link`, { read: true }), {
      name: "ForeignFileError",
      message: `Refusing "${dir}/link": a symbolic link`,
    });
    assert.throws(
      () => openOwnedSync(`${dir}/link`, { append: true, create: true }),
      ForeignFileError,
      "a link is not appended through",
    );
    assert.equal(await Deno.readTextFile(target), "mine");
    await Deno.mkdir(`${dir}/sub`);
    assert.throws(() => openOwnedSync(`${dir}/sub`, { read: true }), /not a regular file/);
    assert.throws(() => openOwnedSync(`${dir}/none`, { read: true }), Deno.errors.NotFound);
    const f = openOwnedSync(`${dir}/new`, { append: true, create: true, mode: 0o600 });
    f.close();
    assert.equal((await Deno.stat(`${dir}/new`)).mode! & 0o777, 0o600);
  });
});

Deno.test("a channel reader never delivers records from a symbolic link planted as a segment", async () => {
  await withDir(async (dir) => {
    const elsewhere = `${dir}/elsewhere.log`;
    await Deno.writeFile(elsewhere, encodeRecords(['"planted"']));
    await Deno.symlink(elsewhere, `${dir}/log.0.log`);
    const reader = new ChannelReader(dir, "log");
    const first = await reader.read();
    assert.deepEqual(first.records, []);
    assert.equal(first.corrupt.length, 1);
    assert.match(first.corrupt[0]!.reason, /a symbolic link/);
    const again = await reader.read();
    assert.deepEqual([again.records, again.corrupt], [[], []], "reported once");
    // Once a trustworthy segment stands there, the channel goes on.
    await Deno.remove(`${dir}/log.0.log`);
    await new ChannelWriter(dir, "log").append(['"real"']);
    assert.deepEqual((await reader.read()).records.map((r) => r.payload), ['"real"']);
  });
});
