/**
 * `hq task notify <MESSAGE>`: a running task's notification to the clients waiting for its
 * job (`notify_runner.ts` runs `--on-notify` for them).
 *
 * @module
 */
import { withClient } from "../../client/io/mod.ts";
import { UsageError } from "../args.ts";
import { argString } from "../parsed_values.ts";
import type { Command, CommandContext } from "./run_cli.ts";

function envNumber(name: string): number {
  const text = Deno.env.get(name);
  if (text === undefined || !/^\d+$/.test(text)) {
    throw new UsageError(
      `Cannot send a notification: ${name} is not set; use \`hq task notify\` inside a task`,
    );
  }
  return Number(text);
}

async function taskNotify(ctx: CommandContext): Promise<void> {
  const message = argString(ctx.parsed, "MESSAGE")!;
  const jobId = envNumber("HQ_JOB_ID");
  const taskId = envNumber("HQ_TASK_ID");
  const instance = envNumber("HQ_INSTANCE_ID");
  await withClient(ctx.serverDir, (client) => client.notify(jobId, taskId, instance, message));
}

/** `hq task notify`. */
export const taskNotifyCommand: Command = {
  name: "notify",
  about: "Send a notification from a running task to the clients waiting for its job",
  args: [{
    name: "MESSAGE",
    required: true,
    check: (v) => {
      const bytes = new TextEncoder().encode(v).length;
      if (bytes > 1024) throw new RangeError(`at most 1024 bytes are allowed (got ${bytes})`);
    },
    help: "Message (at most 1 KiB)",
  }],
  run: taskNotify,
};
