import assert from "node:assert/strict";
import { countOps } from "./netfs.ts";

Deno.test("countOps() counts the server dir's opens, appends, renames and listings of an strace log", () => {
  const dir = "/v/a/bench-x";
  const log = [
    `10 openat(AT_FDCWD</>, "${dir}/sd/001/inbox/new/1.json", O_RDONLY|O_CLOEXEC) = 21<${dir}/sd/001/inbox/new/1.json>`,
    `10 openat(AT_FDCWD</>, "${dir}/sd/001/inbox/new/2.json", O_RDONLY) = -1 ENOENT (No such file or directory)`,
    `10 rename("${dir}/sd/001/inbox/tmp/3.json", "${dir}/sd/001/inbox/new/3.json") = 0`,
    `10 getdents64(22<${dir}/sd/001/inbox/new>, 0x55 /* 3 entries */, 32768) = 96`,
    `10 getdents64(22<${dir}/sd/001/inbox/new>, 0x55 /* 0 entries */, 32768) = 0`,
    `11 write(23<${dir}/sd/001/workers/w-1/to-server.0.log>, "52 1a2b3c4d {}\\n", 15) = 15`,
    `11 pwrite64(24<${dir}/sd/001/journal/data.mdb>, "\\0", 4096, 8192) = 4096`,
    // A task process opening its libraries from a working directory inside the bench dir.
    `12 openat(AT_FDCWD<${dir}/submit>, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY) = 3</lib/libc.so.6>`,
    `11 write(1</dev/null>, "x", 1) = 1`,
  ].join("\n");
  assert.deepEqual(countOps(log, [dir]), {
    opens: 1,
    appends: 2,
    renames: 1,
    listings: 1,
    batches: 1,
  });
});
