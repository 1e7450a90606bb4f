/**
 * An EventBridge Scheduler simulator on loopback speaking its REST-JSON protocol for CreateSchedule
 * (`POST /schedules/{Name}`), enough for the provisioner's one-time schedules (`at(...)` expressions for startAt and
 * deleteAfter). A due schedule invokes `fire(input)` (the local stack's scheduleTarget handler); the wait until then
 * is multiplied by `timeScale`. A name already used answers 409 ConflictException. ActionAfterCompletion DELETE
 * removes the schedule after it fires. Point the SDK at it with AWS_ENDPOINT_URL_SCHEDULER.
 */
import { readBody, sendJson, startServer, type RunningServer } from './common';

export interface SchedulerSimulator extends RunningServer {
  readonly schedules: Map<string, { expression: string; input: string; dueAt: number }>;
}

const AT = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/;

export const startSchedulerSimulator = async (options: {
  fire: (input: unknown) => Promise<void>;
  timeScale?: number;
  port?: number;
  onError?: (err: unknown) => void;
}): Promise<SchedulerSimulator> => {
  const schedules = new Map<string, { expression: string; input: string; dueAt: number }>();
  const timers = new Set<NodeJS.Timeout>();
  const scale = options.timeScale ?? 1;
  const server = await startServer(async (req, res) => {
    const match = /^\/schedules\/([^/?]+)/.exec(req.url ?? '');
    const body = await readBody(req);
    const headers = { 'content-type': 'application/json' };
    const fail = (status: number, type: string, message: string) =>
      sendJson(res, status, { Message: message }, { ...headers, 'x-amzn-errortype': type });
    if (req.method !== 'POST' || !match) return fail(404, 'ResourceNotFoundException', `No route ${req.method} ${req.url}`);
    const name = decodeURIComponent(match[1]!);
    let input: { GroupName?: string; ScheduleExpression?: string; Target?: { Input?: string } };
    try {
      input = JSON.parse(body) as typeof input;
    } catch {
      return fail(400, 'ValidationException', 'Body is not JSON');
    }
    const key = `${input.GroupName ?? 'default'}/${name}`;
    if (schedules.has(key)) return fail(409, 'ConflictException', `Schedule ${name} already exists.`);
    const at = AT.exec(input.ScheduleExpression ?? '');
    if (!at) return fail(400, 'ValidationException', 'Only one-time at(...) expressions are simulated');
    const dueAt = Date.parse(`${at[1]}Z`);
    const payload = input.Target?.Input ?? '{}';
    schedules.set(key, { expression: input.ScheduleExpression!, input: payload, dueAt });
    const delay = Math.max(0, (dueAt - Date.now()) * scale);
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        schedules.delete(key);
        options.fire(JSON.parse(payload)).catch((err) => options.onError?.(err));
      },
      Math.min(delay, 2 ** 31 - 1),
    );
    timers.add(timer);
    sendJson(res, 200, { ScheduleArn: `arn:aws:scheduler:us-east-1:000000000000:schedule/${key}` }, headers);
  }, options.port ?? 0);
  return {
    ...server,
    schedules,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      await server.close();
    },
  };
};
