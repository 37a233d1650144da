import net from 'node:net';

/**
 * IP addresses and CIDR ranges as bytes, for the egress policy: an address is in a range when
 * its first `prefix` bits equal the range's. An IPv6 address that carries an IPv4 address
 * (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) is judged as that IPv4 address,
 * since that is where the connection ends up.
 */

export interface Cidr {
  /** As written in config, normalised: `169.254.0.0/16`, `fe80::/10`. */
  text: string;
  bytes: Uint8Array;
  prefix: number;
}

function ipv4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

function ipv6Bytes(text: string): Uint8Array {
  // a dotted IPv4 tail (::ffff:127.0.0.1) is two groups (::ffff:7f00:1)
  const body = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const [head, rest] = body.includes('::') ? body.split('::') : [body, undefined];
  const groups = (s: string) => (s ? s.split(':').map(g => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const zeros = new Array<number>(8 - left.length - right.length).fill(0);
  const words = [...left, ...zeros, ...right];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  return bytes;
}

/** `[::1]` and `fe80::1%eth0` as plain addresses. */
function bare(address: string): string {
  return address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
}

/** True when the text is an IPv4 or IPv6 address (brackets allowed). */
export function isIpAddress(text: string): boolean {
  return net.isIP(bare(text)) !== 0;
}

const MAPPED = ipv6Bytes('::ffff:0:0');
const NAT64 = ipv6Bytes('64:ff9b::');

function startsWith(bytes: Uint8Array, prefix: Uint8Array, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/**
 * The address as bytes (4 for IPv4, 16 for IPv6), an IPv6 address carrying an IPv4 address
 * reduced to it; undefined when the text is not an address.
 */
export function addressBytes(address: string): Uint8Array | undefined {
  const text = bare(address);
  const family = net.isIP(text);
  if (family === 4) return ipv4Bytes(text);
  if (family !== 6) return undefined;
  const bytes = ipv6Bytes(text);
  if (startsWith(bytes, MAPPED, 12) || startsWith(bytes, NAT64, 12)) return bytes.slice(12);
  return bytes;
}

/** The address in its usual text form (IPv4 for an IPv4-mapped one), for messages. */
export function addressText(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  // the longest run of zero words becomes ::
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > best.length && j - i > 1) best = { at: i, length: j - i };
    i = j;
  }
  if (best.at < 0) return words.join(':');
  return `${words.slice(0, best.at).join(':')}::${words.slice(best.at + best.length).join(':')}`;
}

/** Parses `10.0.0.0/8`, `fd00:ec2::254` (a single address) and the like; throws naming what is wrong. */
export function parseCidr(text: string): Cidr {
  const [address, prefixText, extra] = text.trim().split('/');
  const bytes = extra === undefined ? addressBytes(address) : undefined;
  if (!bytes) throw new Error(`"${text}" is not an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8`);
  const max = bytes.length * 8;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) {
    throw new Error(`"${text}" has a prefix length that is not a whole number from 0 to ${max}`);
  }
  // the address bits past the prefix do not count: 10.1.2.3/8 is 10.0.0.0/8
  const masked = bytes.slice();
  for (let bit = prefix; bit < max; bit++) masked[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { text: `${addressText(masked)}/${prefix}`, bytes: masked, prefix };
}

export function inCidr(address: Uint8Array, cidr: Cidr): boolean {
  if (address.length !== cidr.bytes.length) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((address[bit >> 3] & mask) !== (cidr.bytes[bit >> 3] & mask)) return false;
  }
  return true;
}
