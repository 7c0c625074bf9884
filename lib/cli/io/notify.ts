/**
 * Task notifications: `hq task notify <MESSAGE>` inside a running task, and the runner of
 * `submit --wait|--progress --on-notify "cmd args"`, which calls the command once per
 * notification, one at a time, with the message as its last argument and `HQ_JOB_ID`,
 * `HQ_TASK_ID` and `HQ_WORKER_ID` set, as HyperQueue does.
 *
 * @module
 */
import { type TaskNotification, withClient } from "../../client/io/mod.ts";
import { argString, UsageError } from "../args.ts";
import { splitDirectiveWords } from "../directives.ts";
import type { Command, CommandContext } from "./run_cli.ts";
import type { Output } from "./output.ts";

/** Runs `--on-notify` for each notification in arrival order; `done()` waits for the last. */
export interface NotificationRunner {
  onNotify(n: TaskNotification): void;
  done(): Promise<void>;
}

/**
 * A runner of the `--on-notify` command line `command`.
 *
 * @throws {UsageError} When the command is empty.
 */
export function notificationRunner(command: string, out: Output): NotificationRunner {
  const words = splitDirectiveWords(command);
  if (words.length === 0) throw new UsageError("Invalid value '' for '--on-notify': empty command");
  let chain = Promise.resolve();
  const runOne = async (n: TaskNotification) => {
    try {
      const status = await new Deno.Command(words[0]!, {
        args: [...words.slice(1), n.message],
        env: {
          HQ_JOB_ID: String(n.jobId),
          HQ_TASK_ID: String(n.taskId),
          HQ_WORKER_ID: n.workerId === null ? "" : String(n.workerId),
        },
        stdin: "null",
      }).spawn().status;
      if (!status.success) {
        out.log("WARN", `Notification command ${words[0]} exited with code ${status.code}`);
      }
    } catch (e) {
      out.log("WARN", `Cannot run notification command ${words[0]}: ${(e as Error).message}`);
    }
  };
  return {
    onNotify(n) {
      chain = chain.then(() => runOne(n));
    },
    done: () => chain,
  };
}

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
