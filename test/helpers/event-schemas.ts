/** Validates an event detail against the committed JSON Schema of its detail-type (functions/core/event-schemas). */
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

const FILES: Record<string, string> = {
  'Cluster Ready': 'cluster-ready',
  'Cluster Provisioning Failed': 'cluster-provisioning-failed',
  'Cluster Deleted': 'cluster-deleted',
  'Cluster Deletion Failed': 'cluster-deletion-failed',
  'Cluster Request Rejected': 'cluster-request-rejected',
  'Orphan Cluster Found': 'orphan-cluster-found',
  'Cluster Waiting For Capacity': 'cluster-waiting-for-capacity',
};

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validators = Object.fromEntries(
  Object.entries(FILES).map(([type, file]) => [
    type,
    ajv.compile(JSON.parse(readFileSync(new URL(`../../functions/core/event-schemas/${file}.schema.json`, import.meta.url), 'utf8'))),
  ]),
);

export const assertEventMatchesSchema = (detailType: string, detail: unknown): void => {
  const validate = validators[detailType];
  if (!validate) throw new Error(`No schema committed for detail-type "${detailType}"`);
  if (!validate(detail))
    throw new Error(`"${detailType}" detail breaks its schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(detail)}`);
};
