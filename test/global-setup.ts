import type { TestProject } from 'vitest/node';
import { startDynalite, type RunningDynalite } from '../local/dynalite';

let db: RunningDynalite | undefined;

/** One in-memory dynalite for the whole run; each test file makes its own table (see test/helpers/dynamo.ts). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  db = await startDynalite();
  project.provide('dynamoEndpoint', db.endpoint);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = db.endpoint;
  return async () => {
    await db?.close();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
