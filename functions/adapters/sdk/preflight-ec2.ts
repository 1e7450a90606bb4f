/** What the plan's probes (../preflight-aws.ts) use of @aws-sdk/client-ec2, imported when a check first needs it. */
export { EC2Client, DescribeSubnetsCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
