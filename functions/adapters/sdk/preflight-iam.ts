/** What the plan's probes (../preflight-aws.ts) use of @aws-sdk/client-iam, imported when a check first needs it. */
export { IAMClient, GetRoleCommand } from '@aws-sdk/client-iam';
