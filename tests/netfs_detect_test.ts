/**
 * Network filesystems are detected from the mount table, also through a
 * symlinked directory that points into one (the real path is matched).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isNetworkFs } from "../lib/protocol/io/mod.ts";
import { netfsViews, requirement } from "./_env.ts";

const views = netfsViews();
const req = requirement(views !== undefined, "two sshfs views (tools/netfs.sh start)");

Deno.test({
  name: "isNetworkFs() sees through a symlink into a network filesystem",
  ignore: req.ignore,
  fn: async () => {
    req.check();
    const local = await Deno.makeTempDir();
    try {
      const link = join(local, "server-dir");
      await Deno.symlink(views!.a, link);
      assert.equal(isNetworkFs(views!.a), true);
      assert.equal(isNetworkFs(link), true);
      assert.equal(isNetworkFs(join(link, "not-yet-created")), true);
      assert.equal(isNetworkFs(local), false);
    } finally {
      await Deno.remove(local, { recursive: true });
    }
  },
});
