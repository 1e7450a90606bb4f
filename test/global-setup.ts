import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynalite, type RunningDynalite } from '../local/dynalite';
import { SHARED_PACKAGE_ENV } from './helpers/package';

/**
 * One in-memory dynalite for the whole run; each test file makes its own table (see test/helpers/dynamo.ts). The
 * tiers of vitest.config.ts are projects, and each project runs this setup: the first starts dynalite and the
 * package folder, the others share them (the environment the workers inherit names one endpoint), the last stops them.
 */
interface Shared {
  started: Promise<{ db: RunningDynalite; packageDir: string }>;
  users: number;
}
const slot = globalThis as { __provisionerTestSetup?: Shared };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  slot.__provisionerTestSetup ??= {
    started: (async () => {
      const db = await startDynalite();
      // test/deploy packages serverless.yml once per run, into this folder (test/helpers/package.ts sharedPackage).
      return { db, packageDir: mkdtempSync(join(tmpdir(), 'gcp-shared-package-')) };
    })(),
    users: 0,
  };
  const shared = slot.__provisionerTestSetup;
  shared.users++;
  const { db, packageDir } = await shared.started;
  project.provide('dynamoEndpoint', db.endpoint);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = db.endpoint;
  process.env[SHARED_PACKAGE_ENV] = packageDir;
  return async () => {
    if (--shared.users > 0) return;
    slot.__provisionerTestSetup = undefined;
    await db.close();
    rmSync(packageDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
