// @ts-check
/**
 * A requestId: the idempotency key of a request, the name of its provision execution, the key of its record.
 * 1..64 of [A-Za-z0-9_-] (Step Functions execution names allow 80; `-delete-<n>` is appended for deletions).
 */
export const REQUEST_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

export const REQUEST_ID = new RegExp(REQUEST_ID_PATTERN);
