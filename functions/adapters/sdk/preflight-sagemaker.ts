/** What the plan's probes (../preflight-aws.ts) use of @aws-sdk/client-sagemaker, imported when a check first needs it. */
export { SageMakerClient, DescribeClusterCommand, DescribeTrainingPlanCommand, ListClustersCommand } from '@aws-sdk/client-sagemaker';
