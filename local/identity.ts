/** Who the local stack is: its region, account, deployment name, and the one principal every local request acts as. */
export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';
/** The deployment name (serverless.yml's `<service>-<stage>`) of the local stack. */
export const STAGE_PREFIX = 'gpu-cluster-provisioner-local';
/** The principal every local HTTP request comes from (no SigV4 locally); configured as the deployment's admin. */
export const LOCAL_PRINCIPAL = `arn:aws:iam::${ACCOUNT}:user/local`;

/** A function's ARN, as Lambda names the deployed one (`<service>-<stage>-<key>`). */
export const functionArn = (functionKey: string): string => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${STAGE_PREFIX}-${functionKey}`;
