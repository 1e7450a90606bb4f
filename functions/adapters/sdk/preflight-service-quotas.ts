/** What the plan's probes (../preflight-aws.ts) use of @aws-sdk/client-service-quotas, imported when a check first needs it. */
export { ServiceQuotasClient, ListServiceQuotasCommand } from '@aws-sdk/client-service-quotas';
