// @ts-check
/**
 * The functions' environment as serverless.yml declares it, from functions/contract/environment.js: the variables every
 * function reads (`${file(./serverless/environment.js):provider}`, provider.environment) and each function's own
 * (`${file(./serverless/environment.js):functions.<key>}`). Only the variables the deployment sets are given, each to
 * the functions that read it.
 */
import { ENV, VARIABLES } from '../functions/contract/environment.js';
import { environment as allowListValues } from '../config/allow-lists.js';

/** @typedef {import('../functions/contract/environment.js').EnvKey} EnvKey */
/** @typedef {import('../functions/contract/environment.js').Deployed} Deployed */
/** @typedef {{ resolveVariable: (variable: string) => Promise<unknown> }} Context */

const KEYS = /** @type {EnvKey[]} */ (Object.keys(ENV));

/** The value serverless.yml gives a variable. @param {Deployed} deployed @param {Context} context @returns {Promise<unknown>} */
export const deployedValue = async (deployed, context) => {
  if ('param' in deployed) {
    const value = await context.resolveVariable(`param:${deployed.param}`);
    return deployed.sub ? { 'Fn::Sub': value } : value;
  }
  if ('self' in deployed) return context.resolveVariable(`self:${deployed.self}`);
  if ('allowList' in deployed) {
    const resolve = /** @type {Record<string, (context: Context) => Promise<unknown>>} */ (allowListValues)[deployed.allowList];
    if (!resolve) throw new Error(`config/allow-lists.js has no allow-list ${deployed.allowList}`);
    return resolve(context);
  }
  if ('literal' in deployed) return deployed.literal;
  return deployed;
};

/**
 * The deployed variables `reads` picks, by name. @param {(readBy: readonly string[] | 'all') => boolean} reads
 * @param {Context} context
 */
const environmentOf = async (reads, context) => {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const key of KEYS) {
    const { deployed, readBy } = VARIABLES[key];
    if (deployed && deployed !== 'runtime' && reads(readBy)) out[ENV[key]] = await deployedValue(deployed, context);
  }
  return out;
};

/** What every function reads: provider.environment. */
export const provider = (/** @type {Context} */ context) => environmentOf((readBy) => readBy === 'all', context);

/** The function keys some variable names. */
const FUNCTION_KEYS = [...new Set(KEYS.flatMap((key) => (VARIABLES[key].readBy === 'all' ? [] : VARIABLES[key].readBy)))];

/** Each function's own variables, by function key. */
export const functions = Object.fromEntries(
  FUNCTION_KEYS.map((functionKey) => [
    functionKey,
    (/** @type {Context} */ context) => environmentOf((readBy) => readBy !== 'all' && readBy.includes(functionKey), context),
  ]),
);
