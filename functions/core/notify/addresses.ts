/** Which addresses a webhook may reach: literal hosts at validation, the resolved addresses at send time. */

export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved' | 'not-an-ip';

export const ipv4 = (text: string): number[] | undefined => {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : undefined;
};

/** The 8 groups of an IPv6 address (a zone id dropped, an embedded IPv4 tail converted), or undefined. */
export const ipv6 = (raw: string): number[] | undefined => {
  const text = raw.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let body = text;
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    // An embedded IPv4 tail (::ffff:10.0.0.1) becomes its two groups.
    const v4 = ipv4(body.slice(lastColon + 1));
    if (!v4) return undefined;
    body = `${body.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const group = (part: string) => (part === '' ? [] : part.split(':'));
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const known = head.length + rest.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return undefined;
  const zeros = new Array<number>(8 - known).fill(0);
  return [...head.map((g) => Number.parseInt(g, 16)), ...zeros, ...rest.map((g) => Number.parseInt(g, 16))];
};

export const kindOfIpv4 = ([a, b, c]: number[]): AddressKind => {
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 100 && b! >= 64 && b! <= 127) return 'private'; // carrier-grade NAT (RFC 6598)
  // This network, multicast and above, IETF protocol assignments (192.0.0.0/24), benchmarking (198.18.0.0/15).
  if (a === 0 || a! >= 224 || (a === 192 && b === 0 && c === 0) || (a === 198 && (b === 18 || b === 19))) return 'reserved';
  return 'public';
};

/**
 * What an address is: `public`, or why a webhook may not reach it. IPv4 (dotted), IPv6 (with or without brackets,
 * with an embedded IPv4 tail), IPv4-mapped and IPv4-compatible IPv6 (judged as the IPv4 they carry), NAT64 of a private
 * IPv4 likewise, 6to4 and Teredo by the IPv4 addresses they embed. Anything else is `not-an-ip`.
 */
export const addressKind = (address: string): AddressKind => {
  const v4 = ipv4(address);
  if (v4) return kindOfIpv4(v4);
  const g = ipv6(address);
  if (!g) return 'not-an-ip';
  const embedded = [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff];
  const firstSix = g.slice(0, 6);
  if (firstSix.every((x) => x === 0)) {
    if (g[6] === 0 && g[7] === 1) return 'loopback'; // ::1
    if (g[6] === 0 && g[7] === 0) return 'reserved'; // ::
    return kindOfIpv4(embedded); // IPv4-compatible (deprecated), judged by what it carries
  }
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return kindOfIpv4(embedded); // IPv4-mapped ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b) return kindOfIpv4(embedded) === 'public' ? 'public' : 'private'; // NAT64
  // 6to4 (2002::/16, RFC 3056): the IPv4 it tunnels to is groups 1 and 2.
  if (g[0] === 0x2002) return kindOfIpv4([g[1]! >> 8, g[1]! & 0xff, g[2]! >> 8, g[2]! & 0xff]);
  if (g[0] === 0x2001 && g[1] === 0) {
    // Teredo (2001::/32, RFC 4380): the server's IPv4 in groups 2 and 3, the client's in the last two, inverted.
    const server = kindOfIpv4([g[2]! >> 8, g[2]! & 0xff, g[3]! >> 8, g[3]! & 0xff]);
    const client = kindOfIpv4(embedded.map((b) => b ^ 0xff));
    return client !== 'public' ? client : server;
  }
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((g[0]! & 0xff00) === 0xff00) return 'reserved'; // multicast
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved'; // documentation
  return 'public';
};

/** Names that mean this machine or a cloud's metadata service, whatever DNS would say of them. */
export const WELL_KNOWN_NAMES: ReadonlyArray<{ name: RegExp; kind: AddressKind }> = [
  { name: /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.localhost$/, kind: 'loopback' },
  {
    name: /^(metadata|metadata\.google\.internal|metadata\.goog|instance-data|instance-data\.ec2\.internal|metadata\.azure\.com)$/,
    kind: 'link-local',
  },
  { name: /\.(internal|local|localdomain|home\.arpa)$|^[^.]+$/, kind: 'private' },
];

/** What a URL's host names: the kind of a literal address, of a well-known name, or `not-an-ip` (DNS decides at send time). */
export const hostKind = (hostname: string): AddressKind => {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const literal = addressKind(host);
  if (literal !== 'not-an-ip') return literal;
  return WELL_KNOWN_NAMES.find((w) => w.name.test(host))?.kind ?? 'not-an-ip';
};

export const KIND_WORDS: Readonly<Record<AddressKind, string>> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address (the instance metadata service lives there)',
  reserved: 'a reserved address',
  'not-an-ip': 'a name',
};

export const describeKind = (kind: AddressKind): string => KIND_WORDS[kind];
