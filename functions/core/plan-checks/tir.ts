/** The checks of a TIR placement: credentials and project (one list call), the SKU and the image in the plan list. */
import type { Placement } from '../placements';
import { TirAuthRejectedError, TirProjectRejectedError } from '../errors';
import { guarded, result, type Outcome, type PreflightProbes } from './common';

type TirPlacement = Extract<Placement, { provider: 'tir' }>;

export const tirChecks = async (
  probes: PreflightProbes,
  placement: TirPlacement,
  timeoutMs: number,
): Promise<{ outcomes: Outcome[]; price?: { unitPerHour: number; currency: string } }> => {
  const where = {
    projectId: placement.projectId,
    location: placement.location,
    ...(placement.activeIam !== undefined ? { activeIam: placement.activeIam } : {}),
  };
  const subject = `project ${placement.projectId} (${placement.location})`;
  const access = await guarded('tir-project', subject, '/projectId', timeoutMs, async () => {
    try {
      await probes.tirProject(where);
    } catch (err) {
      if (err instanceof TirAuthRejectedError)
        return [
          result('tir-credentials', 'API key and token', '', 'fail', err.message, 'set valid TIR credentials (the deployment secret)'),
          result('tir-project', subject, '/projectId', 'skipped', 'could not check: the credentials were refused'),
        ];
      if (err instanceof TirProjectRejectedError)
        return [
          result('tir-credentials', 'API key and token', '', 'pass', 'accepted'),
          result('tir-project', subject, '/projectId', 'fail', err.message, 'name a project and location the credentials can reach'),
        ];
      throw err;
    }
    return [
      result('tir-credentials', 'API key and token', '', 'pass', 'accepted'),
      result('tir-project', subject, '/projectId', 'pass', 'reachable'),
    ];
  });
  const outcomes: Outcome[] =
    access.length === 1 && access[0]!.status === 'skipped'
      ? [{ ...access[0]!, check: 'tir-credentials', subject: 'API key and token', at: '' }, access[0]!]
      : access;
  let price: { unitPerHour: number; currency: string } | undefined;
  const sku = `sku ${placement.cluster.sku_id}`;
  const image = `image version ${placement.cluster.image_version_id}`;
  const planned = await guarded('tir-sku', sku, '/cluster/sku_id', timeoutMs, async () => {
    const plan = await probes.tirPlan(where, placement.cluster);
    if (!plan)
      return [
        result('tir-sku', sku, '/cluster/sku_id', 'skipped', 'could not check: the TIR API answers no plan list here'),
        result('tir-image', image, '/cluster/image_version_id', 'skipped', 'could not check: the TIR API answers no plan list here'),
      ];
    price = plan.price;
    return [
      plan.skuFound
        ? result('tir-sku', sku, '/cluster/sku_id', 'pass', 'offered')
        : result(
            'tir-sku',
            sku,
            '/cluster/sku_id',
            'fail',
            `not offered in ${placement.location}`,
            'pick a sku_id and sku_item_price_id from the plan list',
          ),
      plan.imageFound === undefined
        ? result('tir-image', image, '/cluster/image_version_id', 'skipped', 'could not check: the plan list names no images')
        : plan.imageFound
          ? result('tir-image', image, '/cluster/image_version_id', 'pass', 'offered')
          : result(
              'tir-image',
              image,
              '/cluster/image_version_id',
              'fail',
              'not offered for this plan',
              'pick an image_version_id of the plan',
            ),
    ];
  });
  const skuOutcomes =
    planned.length === 1 && planned[0]!.status === 'skipped'
      ? [planned[0]!, { ...planned[0]!, check: 'tir-image', subject: image, at: '/cluster/image_version_id' }]
      : planned;
  const groupId = placement.cluster.security_group_id;
  const group = `security group ${groupId}`;
  const grouped = await guarded('tir-security-group', group, '/cluster/security_group_id', timeoutMs, async () =>
    (await probes.tirSecurityGroup(where, groupId))
      ? result('tir-security-group', group, '/cluster/security_group_id', 'pass', 'in the project')
      : result(
          'tir-security-group',
          group,
          '/cluster/security_group_id',
          'fail',
          `not in ${subject}`,
          'name a security group of the project and location',
        ),
  );
  const keyIds = placement.cluster.ssh_key_ids;
  const keys = `SSH keys ${keyIds.join(', ')}`;
  const keyed = await guarded('tir-ssh-keys', keys, '/cluster/ssh_key_ids', timeoutMs, async () => {
    const missing = await probes.tirSshKeys(where, keyIds);
    return missing.length === 0
      ? result('tir-ssh-keys', keys, '/cluster/ssh_key_ids', 'pass', 'in the account')
      : result('tir-ssh-keys', keys, '/cluster/ssh_key_ids', 'fail', `not found: ${missing.join(', ')}`, 'name SSH keys added to TIR');
  });
  return { outcomes: [...outcomes, ...skuOutcomes, ...grouped, ...keyed], ...(price ? { price } : {}) };
};
