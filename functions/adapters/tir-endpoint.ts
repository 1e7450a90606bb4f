/**
 * Where TIR's API is and how long a call may take, by default: read by the wiring without loading the TIR adapter
 * (./tir.ts), which a function imports only when it first calls TIR.
 */

/** TIR's production API base (https://docs.e2enetworks.com/api/tir/); `TIR_API_BASE_URL` replaces it. */
export const TIR_PRODUCTION_BASE_URL = 'https://api.e2enetworks.com/myaccount/api/v1/gpu';

/** Per call; `TIR_TIMEOUT_MS` replaces it. */
export const TIR_DEFAULT_TIMEOUT_MS = 15_000;
