/**
 * The bucket and key an S3 URI names, in every form Amazon S3 documents
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-bucket-intro.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/dual-stack-endpoints.html):
 *
 *   s3://bucket/key
 *   https://bucket.s3.region.amazonaws.com/key        virtual-hosted (also bucket.s3.amazonaws.com, bucket.s3-region…)
 *   https://s3.region.amazonaws.com/bucket/key        path style (also s3.amazonaws.com, s3-region…)
 *   https://bucket.s3.dualstack.region.amazonaws.com/key, https://s3.dualstack.region.amazonaws.com/bucket/key
 *   …amazonaws.com.cn for the China regions
 *
 * The host is read case-insensitively (DNS is); the key as written, without its query or fragment.
 */

/** `bucket.s3.amazonaws.com`, `bucket.s3.<region>.amazonaws.com`, `bucket.s3-<region>.amazonaws.com`, dualstack, .cn. */
const VIRTUAL_HOSTED = /^(.+?)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$/;
/** `s3.amazonaws.com`, `s3.<region>.amazonaws.com`, `s3-<region>.amazonaws.com`, dualstack, .cn: the bucket is in the path. */
const PATH_STYLE = /^s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$/;

export interface S3Location {
  bucket: string;
  /** The key (or key prefix) after the bucket, without a leading slash; empty when the URI names the bucket alone. */
  key: string;
}

/** The bucket and key of an S3 URI; undefined when it names no bucket this module can tell (another host, no bucket). */
export const parseS3Uri = (uri: string): S3Location | undefined => {
  const match = /^(s3|https):\/\/([^/?#]*)(\/[^?#]*)?/i.exec(uri);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const host = match[2]!.toLowerCase();
  const path = (match[3] ?? '').replace(/^\//, '');
  if (scheme === 's3') return host ? { bucket: host, key: path } : undefined;
  const hosted = VIRTUAL_HOSTED.exec(host);
  if (hosted) return { bucket: hosted[1]!, key: path };
  if (!PATH_STYLE.test(host)) return undefined;
  const [bucket = '', ...rest] = path.split('/');
  return bucket ? { bucket, key: rest.join('/') } : undefined;
};
