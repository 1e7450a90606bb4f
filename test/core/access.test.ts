/** Who may read and delete a request (functions/core/access.ts): its owner and the deployment's admins. */
import { describe, expect, it } from 'vitest';
import { canAccess, isAdmin, principalOf } from '../../functions/core/access';

const ALICE = 'arn:aws:iam::123456789012:user/alice';
const BOB = 'arn:aws:iam::123456789012:user/bob';
const TRAINER = 'arn:aws:iam::123456789012:role/Trainer';
const OPS = 'arn:aws:iam::123456789012:role/Ops';

describe('principalOf', () => {
  it('names an assumed-role session by its role, and a user or role by itself', () => {
    expect(principalOf('arn:aws:sts::123456789012:assumed-role/Trainer/alice@example.com')).toBe(TRAINER);
    expect(principalOf('arn:aws-us-gov:sts::123456789012:assumed-role/Trainer/s1')).toBe('arn:aws-us-gov:iam::123456789012:role/Trainer');
    expect(principalOf(ALICE)).toBe(ALICE);
    expect(principalOf(TRAINER)).toBe(TRAINER);
  });

  it('is undefined without a caller', () => {
    expect(principalOf(undefined)).toBeUndefined();
    expect(principalOf(null)).toBeUndefined();
    expect(principalOf('  ')).toBeUndefined();
  });
});

describe('canAccess', () => {
  it('lets the owner in, and nobody else who is not an admin', () => {
    expect(canAccess({ owner: ALICE }, ALICE, [])).toBe(true);
    expect(canAccess({ owner: ALICE }, BOB, [])).toBe(false);
    expect(canAccess({ owner: ALICE }, undefined, [])).toBe(false);
  });

  it('lets every session of the owning role in, as the role', () => {
    const caller = principalOf('arn:aws:sts::123456789012:assumed-role/Trainer/another-session');
    expect(canAccess({ owner: TRAINER }, caller, [])).toBe(true);
  });

  it('lets an admin into every record, named as a role and called from a session of it', () => {
    const admin = principalOf('arn:aws:sts::123456789012:assumed-role/Ops/oncall');
    expect(canAccess({ owner: ALICE }, admin, [OPS])).toBe(true);
    expect(canAccess({ owner: 'sqs' }, admin, [OPS])).toBe(true);
    expect(canAccess({}, admin, [OPS])).toBe(true);
    expect(isAdmin(admin, [BOB, OPS])).toBe(true);
    expect(isAdmin(ALICE, [BOB, OPS])).toBe(false);
    expect(isAdmin(undefined, [OPS])).toBe(false);
  });

  it('keeps requests from the queue, the bus, schedules and records without an owner to admins', () => {
    for (const owner of ['sqs', 'eventbridge', 'schedule']) expect(canAccess({ owner }, ALICE, [])).toBe(false);
    expect(canAccess({}, ALICE, [])).toBe(false);
  });
});
