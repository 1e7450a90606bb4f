// @ts-check
/**
 * Recurring provisioning: turns config/schedules.yml into one `AWS::Scheduler::Schedule` per entry, in the project's
 * schedule group, targeting the scheduleTarget function through the scheduler role. Loaded from serverless.yml as
 * `${file(./config/schedules.js):resources}` (a `resources` array item, merged with the other resources).
 *
 * The configuration is validated here, so a wrong entry fails `osls package` with a message naming the entry and the
 * field instead of failing a CloudFormation deploy (or worse, a schedule firing) later. The request template itself
 * is checked against the request contract by test/deploy/package.test.ts, and again by scheduleTarget at each firing.
 */

import { PROVIDERS as PROVIDER_NAMES } from '../functions/contract/providers.js';

/** Where serverless.yml's resources live; the schedules reference them. */
export const REFERENCES = {
  group: 'ProvisionerScheduleGroup',
  role: 'SchedulerRole',
  target: 'ScheduleTargetLambdaFunction',
  /** Firings Scheduler could not deliver after its retries (alarmed on; the role may send to it). */
  deadLetterQueue: 'SchedulesDeadLetterQueue',
};

export const CONFIG_FILE = 'config/schedules.yml';

/** The context attribute EventBridge Scheduler replaces with each firing's scheduled time (ISO 8601, UTC). */
export const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

const NAME = /^[0-9a-zA-Z\-_.]+$/;
/**
 * Each firing's requestId is `<name>-<yyyymmddThhmmssZ>` (functions/handlers/schedule-target.ts), and a requestId has
 * at most 64 characters: 47 + 1 + 16. A longer name would be cut there, and two names differing only past the cut
 * would make the same requestIds (one schedule's firing would replay the other's).
 */
const NAME_MAX = 47;
const EXPRESSION = /^(cron|rate|at)\(.+\)$/;
/** EventBridge Scheduler's limit on Target.Input. */
const INPUT_MAX = 8192;
const ENTRY_KEYS = new Set(['name', 'expression', 'timezone', 'enabled', 'request']);
const PROVIDERS = new Set(/** @type {readonly string[]} */ (PROVIDER_NAMES));

/** Retry of a firing whose invocation failed (throttled, scheduleTarget errored): up to an hour, as the one-time schedules. */
export const TARGET_RETRY_POLICY = { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 };

export class ScheduleConfigError extends Error {
  /** @param {string[]} problems */
  constructor(problems) {
    super(`${CONFIG_FILE} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ScheduleConfigError';
    this.problems = problems;
  }
}

/** @returns {value is Record<string, any>} */
const isPlainObject = (/** @type {unknown} */ value) => value !== null && typeof value === 'object' && !Array.isArray(value);

const isTimeZone = (/** @type {string} */ zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** `nightly-hyperpod.v2` -> `NightlyHyperpodV2` (CloudFormation logical ids are alphanumeric). */
const pascal = (/** @type {string} */ name) =>
  name
    .split(/[^0-9a-zA-Z]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

export const logicalIdOf = (/** @type {string} */ name) => `RecurringSchedule${pascal(name)}`;

/**
 * @typedef {{ name: string, expression: string, timezone: string, enabled: boolean, request: Record<string, unknown> }} RecurringSchedule
 */

/**
 * Checks the parsed file and returns its entries with defaults applied. Throws ScheduleConfigError listing every
 * problem found (not only the first).
 * @param {unknown} config the parsed config/schedules.yml (an object with a `schedules` list; empty or absent = none)
 * @returns {RecurringSchedule[]}
 */
export const validateSchedules = (config) => {
  if (config === undefined || config === null || config === '') return [];
  if (!isPlainObject(config)) throw new ScheduleConfigError(['the file must be a mapping with a "schedules" list']);
  const unknownTop = Object.keys(config).filter((key) => key !== 'schedules');
  if (unknownTop.length > 0)
    throw new ScheduleConfigError([`unknown top-level key(s) ${unknownTop.join(', ')}; expected only "schedules"`]);
  const list = config.schedules;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new ScheduleConfigError(['"schedules" must be a list']);

  /** @type {string[]} */
  const problems = [];
  /** @type {Map<string, number>} name -> index */
  const seen = new Map();
  /** @type {Map<string, string>} logical id -> name */
  const logicalIds = new Map();
  /** @type {RecurringSchedule[]} */
  const out = [];
  list.forEach((entry, index) => {
    const where = `schedules[${index}]${isPlainObject(entry) && typeof entry.name === 'string' ? ` ("${entry.name}")` : ''}`;
    if (!isPlainObject(entry)) {
      problems.push(`${where}: must be a mapping with name, expression and request`);
      return;
    }
    const before = problems.length;
    for (const key of Object.keys(entry)) {
      if (!ENTRY_KEYS.has(key)) problems.push(`${where}: unknown field "${key}" (allowed: ${[...ENTRY_KEYS].join(', ')})`);
    }

    const { name, expression, timezone = 'UTC', enabled = true, request } = entry;
    if (typeof name !== 'string' || !NAME.test(name) || name.length > NAME_MAX) {
      problems.push(`${where}: name must be 1..${NAME_MAX} characters of [0-9a-zA-Z-_.], got ${JSON.stringify(name)}`);
    } else if (seen.has(name)) {
      problems.push(`${where}: name "${name}" is already used by schedules[${seen.get(name)}]; names must be unique`);
    } else {
      seen.set(name, index);
      const logicalId = logicalIdOf(name);
      if (logicalIds.has(logicalId)) {
        problems.push(`${where}: name "${name}" and "${logicalIds.get(logicalId)}" differ only in punctuation; rename one`);
      } else {
        logicalIds.set(logicalId, name);
      }
    }
    if (typeof expression !== 'string' || !EXPRESSION.test(expression.trim())) {
      problems.push(`${where}: expression must be cron(...), rate(...) or at(...), got ${JSON.stringify(expression)}`);
    }
    if (typeof timezone !== 'string' || !isTimeZone(timezone)) {
      problems.push(`${where}: timezone must be an IANA time zone such as UTC or Asia/Kolkata, got ${JSON.stringify(timezone)}`);
    }
    if (typeof enabled !== 'boolean') problems.push(`${where}: enabled must be true or false, got ${JSON.stringify(enabled)}`);
    if (!isPlainObject(request)) {
      problems.push(`${where}: request must be a provisioning request (a mapping with provider and cluster)`);
    } else {
      if (!PROVIDERS.has(/** @type {string} */ (request.provider))) {
        problems.push(`${where}: request.provider must be "sagemaker" or "tir", got ${JSON.stringify(request.provider)}`);
      }
      if ('requestId' in request) {
        problems.push(
          `${where}: request must not carry a requestId (every firing would replay the first); scheduleTarget derives one per firing`,
        );
      }
      if ('startAt' in request) {
        problems.push(`${where}: request must not carry startAt (the schedule decides when); use expression`);
      }
    }
    if (problems.length > before) return;

    const schedule = { name, expression: expression.trim(), timezone, enabled, request };
    const input = inputOf(schedule);
    if (input.length > INPUT_MAX) {
      problems.push(
        `${where}: the request is too large for a schedule (${input.length} characters of input, Scheduler allows ${INPUT_MAX})`,
      );
      return;
    }
    out.push(schedule);
  });
  if (problems.length > 0) throw new ScheduleConfigError(problems);
  return out;
};

/**
 * What scheduleTarget receives at each firing. Scheduler substitutes SCHEDULED_TIME.
 * @param {RecurringSchedule} schedule
 */
export const inputOf = (schedule) => JSON.stringify({ schedule: schedule.name, scheduledTime: SCHEDULED_TIME, request: schedule.request });

/**
 * The CloudFormation resources of the validated schedules.
 * @param {RecurringSchedule[]} schedules
 * @returns {Record<string, object>}
 */
export const scheduleResources = (schedules) =>
  Object.fromEntries(
    schedules.map((schedule) => [
      logicalIdOf(schedule.name),
      {
        Type: 'AWS::Scheduler::Schedule',
        Properties: {
          Name: schedule.name,
          GroupName: { Ref: REFERENCES.group },
          Description: `Recurring provisioning "${schedule.name}" (${CONFIG_FILE})`,
          ScheduleExpression: schedule.expression,
          ScheduleExpressionTimezone: schedule.timezone,
          State: schedule.enabled ? 'ENABLED' : 'DISABLED',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: { 'Fn::GetAtt': [REFERENCES.target, 'Arn'] },
            RoleArn: { 'Fn::GetAtt': [REFERENCES.role, 'Arn'] },
            Input: inputOf(schedule),
            RetryPolicy: TARGET_RETRY_POLICY,
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [REFERENCES.deadLetterQueue, 'Arn'] } },
          },
        },
      },
    ]),
  );

/**
 * serverless.yml: `resources: [..., ${file(./config/schedules.js):resources}]`. osls parses the YAML (and resolves
 * any variables in it), this module validates and converts.
 * @param {{ resolveVariable: (variable: string) => Promise<unknown> }} context
 */
export const resources = async ({ resolveVariable }) => {
  const config = await resolveVariable(`file(./${CONFIG_FILE})`);
  return { Resources: scheduleResources(validateSchedules(config)) };
};
