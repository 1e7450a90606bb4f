/**
 * GET /offerings: the offerings (provider, region or location, instance type) the shared memory holds as short of
 * capacity now: `short` until `until` (every request skips them without a provider call), or `probing` (the memory
 * ran out and one request holds the probe lease until `until`; the others still skip them). Offerings whose memory ran
 * out and that nobody probes are not listed: they are free. Read-only; not about one request, so every caller may read
 * it (the memory names no request and no owner).
 */
import type { ShortOffering } from '../../core/offerings';
import { PROVIDERS, type ProviderName } from '../../core/request';
import { httpHandler, json } from '../../platform/middleware/http';
import { offeringsReader, type OfferingsReader, type StoredOffering } from '../../wiring/offerings';

/** Read at most this many items (the table holds a few dozen). */
const MAX_ITEMS = 1000;

/**
 * The offering as the console shows it, or undefined when it is neither short nor probed at `now`, or is no offering (an
 * item of the table keyed otherwise, such as a queue of waiting requests).
 */
export const shortOffering = (item: StoredOffering, now: Date): ShortOffering | undefined => {
  const first = item.offering.indexOf('#');
  const last = item.offering.lastIndexOf('#');
  const provider = item.offering.slice(0, first) as ProviderName;
  if (first <= 0 || last <= first || !PROVIDERS.includes(provider)) return undefined;
  const where = item.offering.slice(first + 1, last);
  const instanceType = item.offering.slice(last + 1);
  const t = now.getTime();
  const short = item.shortUntil !== undefined && Date.parse(item.shortUntil) > t;
  const probing = !short && item.leaseUntil !== undefined && Date.parse(item.leaseUntil) > t;
  if (!short && !probing) return undefined;
  return {
    offering: item.offering,
    provider,
    ...(provider === 'sagemaker' ? { region: where } : { location: where }),
    instanceType,
    state: short ? 'short' : 'probing',
    ...(item.rememberedAt ? { since: item.rememberedAt } : {}),
    until: short ? item.shortUntil! : item.leaseUntil!,
    ...(item.reason ? { reason: item.reason } : {}),
  };
};

export const makeHandler = (reader: () => OfferingsReader, clock: () => Date = () => new Date()) =>
  httpHandler('httpOfferings', async () => {
    const now = clock();
    const items = (await reader().list(MAX_ITEMS))
      .map((item) => shortOffering(item, now))
      .filter((item): item is ShortOffering => item !== undefined)
      .sort((a, b) => a.offering.localeCompare(b.offering));
    return json(200, { at: now.toISOString(), items });
  });

export const handler = makeHandler(offeringsReader);
