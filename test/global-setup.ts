import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynalite, type RunningDynalite } from '../local/dynalite';
import { SHARED_PACKAGE_ENV } from './helpers/package';

let db: RunningDynalite | undefined;

/** One in-memory dynalite for the whole run; each test file makes its own table (see test/helpers/dynamo.ts). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  db = await startDynalite();
  project.provide('dynamoEndpoint', db.endpoint);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = db.endpoint;
  // test/deploy packages serverless.yml once per run, into this folder (test/helpers/package.ts sharedPackage).
  const shared = mkdtempSync(join(tmpdir(), 'gcp-shared-package-'));
  process.env[SHARED_PACKAGE_ENV] = shared;
  return async () => {
    await db?.close();
    rmSync(shared, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
