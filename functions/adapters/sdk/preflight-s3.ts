/** What the plan's probes (../preflight-aws.ts) use of @aws-sdk/client-s3, imported when a check first needs it. */
export { S3Client, HeadObjectCommand } from '@aws-sdk/client-s3';
