// @ts-check
/**
 * The HTTP API's routes: serverless.yml takes each function's `httpApi` events from here
 * (`${file(./functions/contract/routes.js):httpEvents.<functionKey>}`), the local stack routes by it, and the OpenAPI
 * document's paths and the docs are checked against it.
 */
export const ROUTES = /** @type {const} */ ([
  { method: 'POST', path: '/clusters', functionKey: 'httpSubmit', summary: 'Submit a provisioning request' },
  { method: 'GET', path: '/clusters', functionKey: 'httpList', summary: 'List requests, newest first' },
  { method: 'GET', path: '/clusters/{requestId}', functionKey: 'httpGet', summary: 'Read one request' },
  { method: 'DELETE', path: '/clusters/{requestId}', functionKey: 'httpDelete', summary: 'Delete the cluster, or cancel the request' },
  { method: 'POST', path: '/reconcile', functionKey: 'httpReconcile', summary: 'Resume every workflow that died, now' },
  { method: 'GET', path: '/orphans', functionKey: 'httpOrphans', summary: "List this deployment's clusters no record owns" },
  { method: 'GET', path: '/offerings', functionKey: 'httpOfferings', summary: 'List the offerings remembered as short of capacity' },
]);

/**
 * The header every call of the console's page carries; `provision console` forwards only calls that have it (a page of
 * another origin cannot send it without a CORS preflight, which is never answered).
 */
export const CONSOLE_HEADER = 'x-provisioner-console';

/** @typedef {typeof ROUTES[number]} Route */
/** @typedef {Route['functionKey']} HttpFunctionKey */

/** API Gateway's route key, `METHOD /path`. @param {Route} route */
export const routeKey = (route) => `${route.method} ${route.path}`;

/** The `httpApi` events of each HTTP function, every route signed with SigV4 (AWS_IAM). */
export const httpEvents = Object.fromEntries(
  ROUTES.map((route) => [
    route.functionKey,
    ROUTES.filter((r) => r.functionKey === route.functionKey).map((r) => ({
      httpApi: { method: r.method, path: r.path, authorizer: { type: 'aws_iam' } },
    })),
  ]),
);
