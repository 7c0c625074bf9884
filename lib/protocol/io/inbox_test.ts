import assert from "node:assert/strict";
import { instanceLayout } from "../layout.ts";
import { MAX_REJECTED_BYTES, MAX_REJECTED_FILES, rejectInboxFile } from "./inbox.ts";

Deno.test("rejectInboxFile() keeps a bounded head of each file and only the newest files", async () => {
  const root = await Deno.makeTempDir();
  try {
    const layout = instanceLayout(root);
    await Deno.mkdir(layout.inboxNew, { recursive: true });
    await Deno.mkdir(layout.rejected, { recursive: true });
    await Deno.writeFile(`${layout.inboxNew}/huge`, new Uint8Array(MAX_REJECTED_BYTES * 3));
    await rejectInboxFile(layout, "huge", "not JSON");
    const kept = [...Deno.readDirSync(layout.rejected)].map((e) => e.name).sort();
    assert.equal(kept.length, 2);
    assert.equal((await Deno.stat(`${layout.rejected}/${kept[0]}`)).size, MAX_REJECTED_BYTES);
    assert.equal(await Deno.readTextFile(`${layout.rejected}/${kept[1]}`), "not JSON\n");
    for (let i = 0; i < MAX_REJECTED_FILES; i++) {
      await Deno.writeTextFile(`${layout.inboxNew}/bad-${i}`, "x");
      await rejectInboxFile(layout, `bad-${i}`, "bad");
    }
    const names = [...Deno.readDirSync(layout.rejected)].map((e) => e.name);
    assert.equal(names.length, MAX_REJECTED_FILES);
    assert.ok(!names.some((n) => n.endsWith("-huge")), "the oldest went first");
    assert.ok(names.some((n) => n.endsWith(`-bad-${MAX_REJECTED_FILES - 1}`)), "the newest stays");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
