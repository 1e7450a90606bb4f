/**
 * One reading of an S3 URI for the policy (allowed buckets), the validator (the sagemaker- bucket warning) and the
 * pre-flight plan (the lifecycle script's object), on every form Amazon S3 documents
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/dual-stack-endpoints.html,
 * https://docs.aws.amazon.com/general/latest/gr/s3.html), and none on the endpoints that serve no bucket
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-naming.html, website endpoints).
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
  ['https://s3.cn-northwest-1.amazonaws.com.cn/sagemaker-demo/lc/', 'path style, China'],
  ['https://sagemaker-demo.s3.dualstack.cn-north-1.amazonaws.com.cn/lc/', 'virtual-hosted, dualstack, China'],
  ['https://sagemaker-demo.s3-external-1.amazonaws.com/lc/', 'virtual-hosted, legacy s3-external-1'],
  ['https://s3-external-1.amazonaws.com/sagemaker-demo/lc/', 'path style, legacy s3-external-1'],
  ['https://sagemaker-demo.s3-fips.us-gov-west-1.amazonaws.com/lc/', 'virtual-hosted, FIPS, GovCloud'],
  ['https://s3-fips.us-east-2.amazonaws.com/sagemaker-demo/lc/', 'path style, FIPS'],
  ['https://sagemaker-demo.s3-fips.dualstack.us-west-2.amazonaws.com/lc/', 'virtual-hosted, FIPS dualstack'],
  ['https://s3-fips.dualstack.ca-central-1.amazonaws.com/sagemaker-demo/lc/', 'path style, FIPS dualstack'],
  ['https://sagemaker-demo.s3.ap-southeast-2.amazonaws.com:443/lc/', 'virtual-hosted, with a port'],
  ['HTTPS://SageMaker-Demo.S3.EU-WEST-1.AmazonAWS.com/lc/', 'virtual-hosted, host in capitals'],
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
    expect(parseS3Uri('https://s3.amazonaws.com/b/A%20B/c')).toEqual({ bucket: 'b', key: 'A%20B/c' });
  });

  it.each([
    ['https://b.s3.us-east-1.amazonaws.com', 'virtual-hosted'],
    ['https://b.s3.us-east-1.amazonaws.com/', 'virtual-hosted, a slash'],
    ['https://s3.us-east-1.amazonaws.com/b', 'path style'],
    ['https://s3.amazonaws.com/b/', 'path style, global, a slash'],
  ])('%s (%s) names the bucket alone', (uri) => {
    expect(parseS3Uri(uri)).toEqual({ bucket: 'b', key: '' });
  });

  it('reads a bucket whose name holds dots, even .s3. and a region, up to the endpoint', () => {
    expect(parseS3Uri('https://logs.s3.us-east-1.example.s3.eu-west-1.amazonaws.com/k')).toEqual({
      bucket: 'logs.s3.us-east-1.example',
      key: 'k',
    });
    expect(parseS3Uri('https://s3.s3.amazonaws.com/k')).toEqual({ bucket: 's3', key: 'k' });
  });

  it.each([
    ['https://example.com/sagemaker-demo/lc/'],
    ['https://sagemaker-demo.s3.amazonaws.com.evil.example/x'],
    ['https://s3.us-east-1.amazonaws.com/'],
    ['s3:///lc'],
    ['ftp://sagemaker-demo/x'],
    ['http://sagemaker-demo.s3.amazonaws.com/x'],
    // Endpoints that serve something other than a bucket: the name before them is not a bucket.
    ['https://finance-ap-123456789012.s3-accesspoint.us-west-2.amazonaws.com/x'],
    ['https://finance-ap-123456789012.s3-accesspoint.dualstack.us-west-2.amazonaws.com/x'],
    ['https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/x'],
    ['https://my-olap-123456789012.s3-object-lambda.us-east-1.amazonaws.com/x'],
    ['https://sagemaker-demo.s3-website-us-east-1.amazonaws.com/x'],
    ['https://sagemaker-demo.s3-website.eu-central-1.amazonaws.com/x'],
    ['https://s3-accesspoint.us-west-2.amazonaws.com/sagemaker-demo/x'],
    ['https://sagemaker-demo.s3.dualstack.amazonaws.com/x'],
  ])('%s names no bucket for any reader', (uri) => {
    expect(parseS3Uri(uri)).toBeUndefined();
    expect(lifecycleBucketOf(uri)).toBeUndefined();
    expect(s3ObjectOf(uri, 'on_create.sh')).toEqual({});
  });
});
