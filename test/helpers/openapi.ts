/**
 * Checks an HTTP handler's answer against the committed OpenAPI document: the route must be documented, the status
 * declared for it, and the body valid against its schema. Every HTTP test calls it, so the document stays true.
 */
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

export const openapi = JSON.parse(readFileSync(new URL('../../functions/handlers/http/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
  components: { schemas: Record<string, object> };
};

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema({ $id: 'openapi', components: openapi.components });

const resolve = (schema: object): object =>
  JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/')) as object;

/** One compiled validator per route and status: compiling is milliseconds, and the fault suite checks thousands. */
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

export const validateResponse = (routeKey: string, status: number, body: unknown): void => {
  const [method, path] = routeKey.split(' ') as [string, string];
  const operation = openapi.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`OpenAPI documents no ${routeKey}`);
  const response = operation.responses[String(status)];
  if (!response) throw new Error(`OpenAPI declares no ${status} for ${routeKey}`);
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return;
  const key = `${routeKey} ${status}`;
  const validate = compiled.get(key) ?? ajv.compile(resolve(schema));
  compiled.set(key, validate);
  if (!validate(body)) {
    throw new Error(
      `${routeKey} ${status} does not match OpenAPI: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
    );
  }
};
