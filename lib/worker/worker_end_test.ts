import assert from "node:assert/strict";
import { endForStop, killsOnEnd, reportedReason, type WorkerEnd } from "./worker_end.ts";

Deno.test("endForStop() keeps normal ends; a stopping server is lost, a lost worker declared lost", () => {
  assert.equal(endForStop("stopped"), "stopped");
  assert.equal(endForStop("idleTimeout"), "idleTimeout");
  assert.equal(endForStop("timeLimit"), "timeLimit");
  assert.equal(endForStop("serverStopped"), "connectionLost");
  assert.equal(endForStop("heartbeatLost"), "declaredLost");
  assert.equal(endForStop("connectionLost"), "declaredLost");
});

Deno.test("reportedReason() reports an interrupt as a lost connection and nothing to a lost server", () => {
  const table: [WorkerEnd, ReturnType<typeof reportedReason>][] = [
    ["stopped", "stopped"],
    ["idleTimeout", "idleTimeout"],
    ["timeLimit", "timeLimit"],
    ["interrupted", "connectionLost"],
    ["connectionLost", null],
    ["declaredLost", null],
  ];
  for (const [end, reported] of table) assert.equal(reportedReason(end), reported, end);
});

Deno.test("killsOnEnd() spares running tasks only for a lost server with finish-running", () => {
  assert.equal(killsOnEnd("connectionLost", "finish-running"), false);
  assert.equal(killsOnEnd("connectionLost", "stop"), true);
  assert.equal(killsOnEnd("declaredLost", "finish-running"), true, "its tasks run elsewhere");
  for (const end of ["stopped", "idleTimeout", "timeLimit", "interrupted"] as const) {
    assert.equal(killsOnEnd(end, "finish-running"), true, end);
    assert.equal(killsOnEnd(end, "stop"), true, end);
  }
});
