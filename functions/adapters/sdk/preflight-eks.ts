/** What the plan's probes (../preflight-aws.ts) use of @aws-sdk/client-eks, imported when a check first needs it. */
export { EKSClient, DescribeClusterCommand } from '@aws-sdk/client-eks';
