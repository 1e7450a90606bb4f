/**
 * The bucket and key an S3 URI names, in every form Amazon S3 documents for a bucket
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-bucket-intro.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/dual-stack-endpoints.html,
 * https://docs.aws.amazon.com/general/latest/gr/s3.html):
 *
 *   s3://bucket/key
 *   https://bucket.s3.region.amazonaws.com/key        virtual-hosted
 *   https://s3.region.amazonaws.com/bucket/key        path style
 *   and for both: without a region (s3.amazonaws.com, the legacy global endpoint), the legacy dash region
 *   (s3-region), s3-external-1, dualstack (s3.dualstack.region), FIPS (s3-fips.region, s3-fips.dualstack.region),
 *   and amazonaws.com.cn for the China regions.
 *
 * An access point, a Multi-Region Access Point, an Object Lambda or a website endpoint names no bucket: undefined. The
 * host is read case-insensitively (DNS is), a port is ignored; the key as written, without its query or fragment.
 */

/** A region code: us-east-1, ap-southeast-2, us-gov-west-1, cn-north-1, us-isob-east-1. */
const REGION = String.raw`[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}`;
/** The S3 endpoints that serve buckets (no access points, no website endpoints). */
const ENDPOINT = String.raw`s3(?:(?:-fips)?(?:\.dualstack)?\.${REGION}|-${REGION}|-external-1)?\.amazonaws\.com(?:\.cn)?`;
/** The bucket is the host before the endpoint (a bucket name may hold dots, even ".s3."). */
const VIRTUAL_HOSTED = new RegExp(`^(.+)\\.${ENDPOINT}$`);
/** The bucket is the first segment of the path. */
const PATH_STYLE = new RegExp(`^${ENDPOINT}$`);

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
  const host = match[2]!.toLowerCase().replace(/:\d+$/, '');
  const path = (match[3] ?? '').replace(/^\//, '');
  if (scheme === 's3') return host ? { bucket: host, key: path } : undefined;
  const hosted = VIRTUAL_HOSTED.exec(host);
  if (hosted) return { bucket: hosted[1]!, key: path };
  if (!PATH_STYLE.test(host)) return undefined;
  const [bucket = '', ...rest] = path.split('/');
  return bucket ? { bucket, key: rest.join('/') } : undefined;
};
