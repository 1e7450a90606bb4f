/**
 * Who may read and delete every request and call the admin routes: the `adminPrincipals` param (serverless.yml), a
 * comma-separated list of role / user ARNs in `ENV.adminPrincipals`; empty by default (nobody).
 */
import { ENV } from '../contract/environment.js';
import { once, optionalList } from '../platform/config';

export const adminPrincipals = once((): readonly string[] => optionalList(ENV.adminPrincipals));
