// @ts-check
/**
 * The providers a request may name. One of the facts every layer shares (functions/contract/): the request schema's
 * `provider` enum, the store's index, the list filter, the schedules' configuration and the docs all derive from it.
 */
export const PROVIDERS = /** @type {const} */ (['sagemaker', 'tir']);

/** @typedef {typeof PROVIDERS[number]} ProviderName */
