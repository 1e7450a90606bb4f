/**
 * Who may see and delete a request: its owner, and the deployment's admins.
 *
 * The owner is recorded at submit: for the HTTP API the caller's IAM principal (API Gateway's
 * `requestContext.authorizer.iam.userArn`) as `principalOf` normalises it; for the other ways in, which have no caller,
 * the source (`sqs`, `eventbridge`, `schedule`), so only admins can read or delete those. A record written before
 * owners were recorded has none: only admins can reach it too.
 */

/** The owners of requests that came in without a caller principal. */
export const SOURCE_OWNERS = ['sqs', 'eventbridge', 'schedule'] as const;

const ASSUMED_ROLE = /^arn:([a-z-]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

/**
 * The principal a caller ARN stands for: an assumed-role session (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`)
 * is its role (`arn:aws:iam::<acct>:role/<role>`), so every session of one role owns the same requests; a user or role
 * ARN is itself. The role's path is not in a session ARN, so a role with a path is named without it (an admin entry
 * must be written that way too). Undefined for no caller.
 */
export const principalOf = (arn: string | undefined | null): string | undefined => {
  const value = arn?.trim();
  if (!value) return undefined;
  const session = ASSUMED_ROLE.exec(value);
  return session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : value;
};

/** Whether the caller is one of the admins (the admins normalised like callers). */
export const isAdmin = (caller: string | undefined, admins: readonly string[]): boolean =>
  caller !== undefined && admins.some((admin) => principalOf(admin) === caller);

/** Whether `caller` (a normalised principal) may read or delete `record`: its owner, or an admin. */
export const canAccess = (record: { owner?: string }, caller: string | undefined, admins: readonly string[]): boolean =>
  caller !== undefined && (isAdmin(caller, admins) || (record.owner !== undefined && record.owner === caller));
