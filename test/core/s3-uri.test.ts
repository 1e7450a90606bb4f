/**
 * One reading of an S3 URI for the policy (allowed buckets), the validator (the sagemaker- bucket warning) and the
 * pre-flight plan (the lifecycle script's object), on every form Amazon S3 documents
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/dual-stack-endpoints.html).
 */
import { describe, expect, it } from 'vitest';
import { s3ObjectOf } from '../../functions/core/plan-checks';
import { lifecycleBucketOf } from '../../functions/core/policy';
import { parseS3Uri } from '../../functions/core/s3-uri';

const FORMS: Array<[string, string]> = [
  ['s3://sagemaker-demo/lc/', 's3'],
  ['https://sagemaker-demo.s3.us-east-1.amazonaws.com/lc/', 'virtual-hosted, regional'],
  ['https://sagemaker-demo.s3.amazonaws.com/lc/', 'virtual-hosted, global'],
  ['https://sagemaker-demo.s3-us-west-2.amazonaws.com/lc/', 'virtual-hosted, legacy dash region'],
  ['https://sagemaker-demo.s3.dualstack.us-east-1.amazonaws.com/lc/', 'virtual-hosted, dualstack'],
  ['https://s3.us-east-1.amazonaws.com/sagemaker-demo/lc/', 'path style, regional'],
  ['https://s3.amazonaws.com/sagemaker-demo/lc/', 'path style, global'],
  ['https://s3-us-west-2.amazonaws.com/sagemaker-demo/lc/', 'path style, legacy dash region'],
  ['https://s3.dualstack.us-east-1.amazonaws.com/sagemaker-demo/lc/', 'path style, dualstack'],
  ['https://sagemaker-demo.s3.cn-north-1.amazonaws.com.cn/lc/', 'virtual-hosted, China'],
];

describe('an S3 URI', () => {
  it.each(FORMS)('%s (%s): one bucket and key for every reader', (uri) => {
    expect(parseS3Uri(uri)).toEqual({ bucket: 'sagemaker-demo', key: 'lc/' });
    expect(lifecycleBucketOf(uri)).toBe('sagemaker-demo');
    expect(s3ObjectOf(uri, 'on_create.sh')).toEqual({ bucket: 'sagemaker-demo', key: 'lc/on_create.sh' });
  });

  it('keeps the key as written and drops a query or fragment', () => {
    expect(parseS3Uri('s3://b/A/B?x=1')).toEqual({ bucket: 'b', key: 'A/B' });
    expect(parseS3Uri('https://my.dotted.bucket.s3.eu-west-1.amazonaws.com/k#f')).toEqual({ bucket: 'my.dotted.bucket', key: 'k' });
    expect(parseS3Uri('s3://b')).toEqual({ bucket: 'b', key: '' });
  });

  it.each([
    ['https://example.com/sagemaker-demo/lc/'],
    ['https://sagemaker-demo.s3.amazonaws.com.evil.example/x'],
    ['https://s3.us-east-1.amazonaws.com/'],
    ['s3:///lc'],
    ['ftp://sagemaker-demo/x'],
  ])('%s names no bucket for any reader', (uri) => {
    expect(parseS3Uri(uri)).toBeUndefined();
    expect(lifecycleBucketOf(uri)).toBeUndefined();
    expect(s3ObjectOf(uri, 'on_create.sh')).toEqual({});
  });
});
