/**
 * Validation of the provisioning request: the one gate every entry point (HTTP, SQS, EventBridge, schedules, CLI) uses.
 *
 * The request's shape has one source, functions/contract/request.schema.json (JSON Schema 2020-12; its HyperPod part
 * is generated from the pinned SageMaker SDK model, docs/contract.md). The schema is compiled by ajv into
 * functions/contract/request.validator.js when the contract is generated, so nothing is compiled here. This folder
 * turns ajv's findings into this project's answers (each an RFC 6901 pointer from the request root with a message of
 * its own, one per pointer, in the order of the request), then adds the rules JSON Schema cannot state: duplicates of
 * a member across items (and of list items: see `uniqueItems` in scripts/generate-contract.ts), MinInstanceCount
 * against InstanceCount, duration ranges, notify targets, and the warnings. The rules between members the schema does
 * state (InstanceType or InstanceRequirements, the root-volume rule of EBS configs, reserved tag keys, TIR's
 * script_added, hold on HyperPod only) are answered in words of their own (messages.ts, RULE_MESSAGES).
 *
 * Before any of that, one iterative walk over the whole input (pass-through objects included) answers what no schema
 * rule should have to meet, each at its pointer (docs/contract.md#hostile-input): a number JSON or DynamoDB cannot carry
 * faithfully (not finite, a whole number beyond ±(2^53 − 1), a magnitude below 1e-130), a `__proto__`, `constructor` or
 * `prototype` key, nesting deeper than 32 levels, an unpaired surrogate, a cycle. Such an input is answered with those
 * errors alone: the schema is not walked, and nothing downstream (hashing, marshalling, a provider) ever sees it.
 * ajv itself only enters known structure, and only own properties count (`ownProperties`); the refinements below read
 * own properties only.
 *
 *   hostile.ts      the walk over the whole input that comes first
 *   findings.ts     the answer: one error per pointer, in the order of the request
 *   schema.ts       the schema read to name objects and suggest fields; pointers and values
 *   messages.ts     ajv's findings in this project's words, the schema's own rules included
 *   refinements.ts  the rules JSON Schema cannot state, and the warnings
 */
import type { FieldError } from '../errors';
import { RequestValidationError } from '../errors';
import { alternativeErrors } from '../placements';
import type { ProvisionRequest } from '../request';
import { validate as matchesSchema } from '../../contract/request.validator';
import { Findings } from './findings';
import { structureProblems } from './hostile';
import { fromSchema, HOLD_NEEDS_HYPERPOD } from './messages';
import { refineRequest } from './refinements';
import { isObject } from './schema';

export { durationSeconds } from '../duration';
export { HOLD_NEEDS_HYPERPOD };
export interface ValidationResult {
  valid: boolean;
  errors: FieldError[];
  warnings: FieldError[];
  /** The typed request, set when valid (the input itself, unchanged: requestId is settled later by withRequestId). */
  request?: ProvisionRequest;
}

/** Every error and warning, at once. Throws nothing, whatever the input. */
export function validateRequest(input: unknown): ValidationResult {
  const out = new Findings(input);
  structureProblems(input, out);
  if (out.found) return { valid: false, ...out.result() };
  matchesSchema(input);
  for (const error of matchesSchema.errors ?? []) {
    if (out.full) {
      out.truncate();
      break;
    }
    fromSchema(error, out);
  }
  if (isObject(input)) refineRequest(input, out);
  // Each alternative is checked as the whole request it stands for (when its own shape is right).
  if (isObject(input) && Array.isArray(input.alternatives) && !out.result().errors.some((e) => e.path.startsWith('/alternatives'))) {
    for (const e of alternativeErrors(input as unknown as ProvisionRequest, validateRequest)) out.error(e.path, e.message);
  }
  const { errors, warnings } = out.result();
  return errors.length === 0 ? { valid: true, errors, warnings, request: input as ProvisionRequest } : { valid: false, errors, warnings };
}

/** Throws RequestValidationError (carrying errors and warnings); returns the typed request. */
export function parseRequest(input: unknown): ProvisionRequest {
  const result = validateRequest(input);
  if (!result.request) throw new RequestValidationError(result.errors, result.warnings);
  return result.request;
}
