/**
 * The unit tier alone, for mutation testing (stryker.config.json): no dynalite global setup, no AWS environment, so a
 * run per mutant takes milliseconds. Not used by `npm test`.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    pool: 'threads',
    testTimeout: 10_000,
  },
});
