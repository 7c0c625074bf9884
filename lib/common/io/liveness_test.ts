import assert from "node:assert/strict";
import { machineIdentity, ownProcessIdentity, processGone } from "./liveness.ts";

Deno.test("processGone() sees a process end on this machine, and decides nothing elsewhere", async () => {
  const here = machineIdentity();
  const me = ownProcessIdentity();
  assert.equal(me.host, Deno.hostname());
  assert.notEqual(me.bootId, null);
  assert.notEqual(me.pidNamespace, null);
  assert.ok(me.startTicks !== null && me.startTicks > 0);
  assert.equal(processGone(Deno.pid, me, here), false);
  // A reused pid: the process there started at another time.
  assert.equal(processGone(Deno.pid, { ...me, startTicks: me.startTicks! + 1 }, here), true);
  // Another boot or pid namespace: no evidence either way.
  assert.equal(processGone(Deno.pid + 1_000_000, { ...me, bootId: "other" }, here), false);
  assert.equal(processGone(Deno.pid + 1_000_000, { ...me, pidNamespace: "pid:[1]" }, here), false);
  assert.equal(processGone(Deno.pid + 1_000_000, undefined, here), false);

  const child = new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" }).spawn();
  const stat = Deno.readTextFileSync(`/proc/${child.pid}/stat`);
  const startTicks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  const identity = { ...me, startTicks };
  assert.equal(processGone(child.pid, identity, here), false);
  child.kill("SIGKILL");
  await child.status;
  assert.equal(processGone(child.pid, identity, here), true);
});
