import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate, ROOT } from '../../scripts/generate-contract';

const generated = generate();

describe('the generated contract files', () => {
  it('covers the schema, the compiled validator, its types and the instance type list', () => {
    expect(Object.keys(generated).sort()).toEqual([
      'functions/contract/request.schema.json',
      'functions/contract/request.validator.d.ts',
      'functions/contract/request.validator.js',
      'functions/core/hyperpod-instance-types.ts',
    ]);
  });

  it.each(Object.keys(generated))('%s is what `npm run generate` produces now', (path) => {
    expect(readFileSync(join(ROOT, path), 'utf8'), `${path} is stale: run npm run generate`).toBe(generated[path]);
  });

  it('compiles nothing at load: the validator module is plain code with no ajv compiler import', () => {
    const code = generated['functions/contract/request.validator.js'] ?? '';
    expect(code).not.toMatch(/require\(/);
    expect(code.match(/^import .*$/gm)).toEqual(['import { FORMATS } from "./date-time.js";']);
  });
});
