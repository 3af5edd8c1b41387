/**
 * Address arithmetic for config validation: CIDRs and start/stop ranges as inclusive bigint intervals, so
 * overlaps between the LB pool and the pod/service networks can be found before anything is created.
 */
import * as ipaddr from "ipaddr.js";

export interface AddressRange {
  family: "ipv4" | "ipv6";
  first: bigint;
  last: bigint;
}

function toBigInt(address: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  return address.toByteArray().reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

function bitsOf(family: AddressRange["family"]): bigint {
  return family === "ipv4" ? 32n : 128n;
}

/** True for a plain IPv4 or IPv6 address in canonical-enough form (no zone, no prefix). */
export function isIpAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || (ipaddr.IPv6.isValid(text) && !text.includes("%"));
}

/**
 * Parses `a.b.c.d/n` (or IPv6) into its range. Returns undefined when the text is not a CIDR or has host
 * bits set (`10.0.0.1/24` is almost always a typo for `10.0.0.0/24`).
 */
export function cidrRange(text: string): AddressRange | undefined {
  const [address, prefixText, ...rest] = text.split("/");
  if (address === undefined || prefixText === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefixText)) {
    return undefined;
  }
  if (!isIpAddress(address)) return undefined;
  const parsed = ipaddr.parse(address);
  const family = parsed.kind();
  const prefix = BigInt(prefixText);
  const bits = bitsOf(family);
  if (prefix > bits) return undefined;
  const first = toBigInt(parsed);
  const hostMask = (1n << (bits - prefix)) - 1n;
  if ((first & hostMask) !== 0n) return undefined;
  return { family, first, last: first | hostMask };
}

/** The range `start`..`stop` (inclusive); undefined when either is not an address, families differ or stop < start. */
export function startStopRange(start: string, stop: string): AddressRange | undefined {
  if (!isIpAddress(start) || !isIpAddress(stop)) return undefined;
  const a = ipaddr.parse(start);
  const b = ipaddr.parse(stop);
  if (a.kind() !== b.kind()) return undefined;
  const first = toBigInt(a);
  const last = toBigInt(b);
  return last < first ? undefined : { family: a.kind(), first, last };
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function rangeContains(outer: AddressRange, address: string): boolean {
  if (!isIpAddress(address)) return false;
  const parsed = ipaddr.parse(address);
  const value = toBigInt(parsed);
  return parsed.kind() === outer.family && outer.first <= value && value <= outer.last;
}
