import assert from "node:assert/strict";
import { tempDir } from "../../common/io/mod.ts";
import {
  copyJournal,
  inspectInstance,
  InstanceJournalError,
  planInstanceJournal,
} from "./instance_journal.ts";

/** The start of an LMDB data file: the meta page's magic at offset 16. */
function lmdbBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31) & 0xff;
  bytes.set([0xde, 0xc0, 0xef, 0xbe], 16);
  return bytes;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  await using dir = await tempDir();
  await fn(dir.path);
}

async function instance(
  dir: string,
  name: string,
  opts: { journal?: Uint8Array; serverJson?: object },
): Promise<void> {
  await Deno.mkdir(`${dir}/${name}/journal`, { recursive: true });
  if (opts.journal) await Deno.writeFile(`${dir}/${name}/journal/data.mdb`, opts.journal);
  if (opts.serverJson) {
    await Deno.writeTextFile(`${dir}/${name}/server.json`, JSON.stringify(opts.serverJson));
  }
}

Deno.test("inspectInstance() tells journal, broken, missing, external, empty and absent apart", async () => {
  await withDir(async (dir) => {
    await instance(dir, "001", { journal: lmdbBytes(4096) });
    await instance(dir, "002", { journal: new TextEncoder().encode("not a journal at all\n") });
    await instance(dir, "003", { journal: new Uint8Array(0) });
    await instance(dir, "004", { serverJson: { journal: `${dir}/004/journal` } });
    await instance(dir, "005", { serverJson: { journal: "/elsewhere/hq.journal" } });
    await instance(dir, "006", {});
    assert.deepEqual(inspectInstance(`${dir}/001`), {
      kind: "journal",
      path: `${dir}/001/journal/data.mdb`,
    });
    assert.deepEqual(inspectInstance(`${dir}/002`), {
      kind: "broken",
      path: `${dir}/002/journal/data.mdb`,
      why: "it has no LMDB header",
    });
    assert.equal(inspectInstance(`${dir}/003`).kind, "broken");
    assert.deepEqual(inspectInstance(`${dir}/004`), {
      kind: "missing",
      path: `${dir}/004/journal/data.mdb`,
    });
    assert.deepEqual(inspectInstance(`${dir}/005`), {
      kind: "external",
      path: "/elsewhere/hq.journal",
    });
    assert.deepEqual(inspectInstance(`${dir}/006`), { kind: "empty" });
    assert.deepEqual(inspectInstance(`${dir}/007`), { kind: "absent" });
  });
});

Deno.test("planInstanceJournal() starts from the newest journal, skipping instances that never held state", async () => {
  await withDir(async (dir) => {
    await instance(dir, "001", { journal: lmdbBytes(4096), serverJson: {} });
    await instance(dir, "002", {}); // a starter that lost a race, or died at once
    await instance(dir, "004", {});
    assert.equal(await planInstanceJournal(dir, 4), `${dir}/001/journal`);
    // A taken-over instance with a journal of its own keeps it.
    await instance(dir, "005", { journal: lmdbBytes(4096) });
    assert.equal(await planInstanceJournal(dir, 5), undefined);
    // Nothing anywhere: a fresh start.
    await withDir(async (fresh) => {
      await instance(fresh, "001", {});
      assert.equal(await planInstanceJournal(fresh, 1), undefined);
    });
  });
});

Deno.test("planInstanceJournal() refuses a broken or missing newest journal with one line", async () => {
  await withDir(async (dir) => {
    await instance(dir, "001", { journal: lmdbBytes(4096), serverJson: {} });
    await instance(dir, "002", { serverJson: { journal: `${dir}/002/journal` } });
    await instance(dir, "003", {});
    await assert.rejects(
      planInstanceJournal(dir, 3),
      new InstanceJournalError(
        `Cannot start server at "${dir}": the journal "${dir}/002/journal/data.mdb" of instance 002 is missing although a server ran there; restore it from a backup or start with another --server-dir: starting from an empty state would reuse job ids and overwrite old outputs`,
      ),
    );
    await Deno.writeFile(`${dir}/002/journal/data.mdb`, new Uint8Array(10));
    await assert.rejects(
      planInstanceJournal(dir, 3),
      /of instance 002 cannot be used \(it has no LMDB header\)/,
    );
    await Deno.remove(`${dir}/002/journal/data.mdb`);
    await Deno.writeTextFile(`${dir}/002/server.json`, JSON.stringify({ journal: "/j/hq" }));
    await assert.rejects(
      planInstanceJournal(dir, 3),
      /start with --journal \/j\/hq to continue from it/,
    );
  });
});

Deno.test("copyJournal() copies to a temporary name, checks and renames into place", async () => {
  await withDir(async (dir) => {
    await instance(dir, "001", { journal: lmdbBytes(3 * (1 << 20) + 123) });
    await Deno.mkdir(`${dir}/002/journal`, { recursive: true });
    await copyJournal(`${dir}/001/journal`, `${dir}/002/journal`);
    assert.deepEqual(
      await Deno.readFile(`${dir}/002/journal/data.mdb`),
      await Deno.readFile(`${dir}/001/journal/data.mdb`),
    );
    assert.deepEqual([...Deno.readDirSync(`${dir}/002/journal`)].map((e) => e.name), ["data.mdb"]);
    // A missing source leaves nothing behind.
    await Deno.mkdir(`${dir}/003/journal`, { recursive: true });
    await assert.rejects(copyJournal(`${dir}/none`, `${dir}/003/journal`), Deno.errors.NotFound);
    assert.deepEqual([...Deno.readDirSync(`${dir}/003/journal`)], []);
  });
});
