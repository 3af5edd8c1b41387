/**
 * Properties of the address arithmetic in lib/net.ts, for IPv4 and IPv6 alike. Addresses are generated as numbers
 * and written out with ipaddr.js, so each property says which numbers a text must come to.
 */
import fc from "fast-check";
import * as ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { cidrRange, isIpAddress, rangeContains, rangesOverlap, startStopRange, type AddressRange } from "../lib/net";

type Family = AddressRange["family"];
const BITS: Record<Family, number> = { ipv4: 32, ipv6: 128 };
const family = fc.constantFrom<Family>("ipv4", "ipv6");
const max = (f: Family) => (1n << BigInt(BITS[f])) - 1n;

/** The address `value` of the family, as text: IPv6 compressed (`fd00::1`) or in full (`fd00:0:0:0:0:0:0:1`). */
function text(f: Family, value: bigint, full = false): string {
  const bytes = Array.from({ length: BITS[f] / 8 }, (_, i) => Number((value >> BigInt(BITS[f] - 8 * (i + 1))) & 255n));
  const address = ipaddr.fromByteArray(bytes);
  return full && address.kind() === "ipv6" ? (address as ipaddr.IPv6).toNormalizedString() : address.toString();
}

const address = (f: Family) => fc.bigInt({ min: 0n, max: max(f) });
/** A network: its family, prefix, and the address with the host bits cleared. */
const network = family.chain((f) =>
  fc.tuple(fc.constant(f), fc.integer({ min: 0, max: BITS[f] }), address(f)).map(([, prefix, value]) => {
    const size = 1n << BigInt(BITS[f] - prefix);
    return { family: f, prefix, first: value - (value % size), size };
  }),
);
/** Any range lib/net.ts builds: from a CIDR or from a start/stop pair, in one family. */
const rangeIn = (f: Family) =>
  fc.tuple(address(f), address(f)).map(([a, b]): AddressRange => ({
    family: f,
    first: a < b ? a : b,
    last: a < b ? b : a,
  }));
const anyRange = family.chain(rangeIn);

const RUNS = { numRuns: 200 };

describe("cidrRange", () => {
  it("gives a network's first address and the last of its 2^(bits-prefix), in any spelling of the address", () => {
    fc.assert(
      fc.property(network, fc.boolean(), ({ family: f, prefix, first, size }, full) => {
        const range = cidrRange(`${text(f, first, full)}/${prefix}`);
        expect(range).toEqual({ family: f, first, last: first + size - 1n });
        // The first address written back out is the network's own text: a round trip.
        expect(cidrRange(`${text(f, range!.first)}/${prefix}`)).toEqual(range);
      }),
      RUNS,
    );
  });

  it("refuses a network with host bits set, and a prefix longer than the family's", () => {
    const withHostBits = network
      .filter((n) => n.size > 1n)
      .chain((n) => fc.bigInt({ min: 1n, max: n.size - 1n }).map((offset) => ({ ...n, offset })));
    fc.assert(
      fc.property(withHostBits, ({ family: f, prefix, first, offset }) => {
        expect(cidrRange(`${text(f, first + offset)}/${prefix}`)).toBeUndefined();
      }),
      RUNS,
    );
    fc.assert(
      fc.property(family, fc.integer({ min: 1, max: 999 }), fc.bigInt({ min: 0n, max: 255n }), (f, extra, value) => {
        expect(cidrRange(`${text(f, value)}/${BITS[f] + extra}`)).toBeUndefined();
      }),
      RUNS,
    );
  });
});

describe("rangeContains", () => {
  it("holds for a range's first and last address and every one between, for none outside or of the other family", () => {
    const withOffset = anyRange.chain((range) =>
      fc.tuple(fc.constant(range), fc.bigInt({ min: 0n, max: range.last - range.first })),
    );
    fc.assert(
      fc.property(withOffset, ([range, offset]) => {
        const f = range.family;
        for (const inside of [range.first, range.last, range.first + offset]) {
          expect(rangeContains(range, text(f, inside))).toBe(true);
        }
        if (range.first > 0n) expect(rangeContains(range, text(f, range.first - 1n))).toBe(false);
        if (range.last < max(f)) expect(rangeContains(range, text(f, range.last + 1n))).toBe(false);
        // The same number in the other family is another address; a CIDR or a zone is not an address at all.
        const other: Family = f === "ipv4" ? "ipv6" : "ipv4";
        if (range.first <= max(other)) expect(rangeContains(range, text(other, range.first))).toBe(false);
        expect(rangeContains(range, `${text(f, range.first)}/${BITS[f]}`)).toBe(false);
      }),
      RUNS,
    );
  });
});

describe("startStopRange", () => {
  it("is the inclusive interval from start to stop, and undefined when stop is below start or the families differ", () => {
    fc.assert(
      fc.property(
        family.chain((f) => fc.tuple(fc.constant(f), address(f), address(f))),
        ([f, start, stop]) => {
          const range = startStopRange(text(f, start), text(f, stop));
          expect(range).toEqual(stop < start ? undefined : { family: f, first: start, last: stop });
          expect(startStopRange(text(f, start), text(f === "ipv4" ? "ipv6" : "ipv4", stop))).toBeUndefined();
        },
      ),
      RUNS,
    );
  });

  it("of one address contains that address alone", () => {
    fc.assert(
      fc.property(
        family.chain((f) => fc.tuple(fc.constant(f), address(f))),
        ([f, value]) => {
          const range = startStopRange(text(f, value), text(f, value))!;
          expect(rangeContains(range, text(f, value))).toBe(true);
          if (value > 0n) expect(rangeContains(range, text(f, value - 1n))).toBe(false);
          if (value < max(f)) expect(rangeContains(range, text(f, value + 1n))).toBe(false);
        },
      ),
      RUNS,
    );
  });
});

describe("rangesOverlap", () => {
  it("is symmetric, reflexive, and true exactly when some address lies in both", () => {
    const pair = fc.oneof(
      family.chain((f) => fc.tuple(rangeIn(f), rangeIn(f))),
      fc.tuple(rangeIn("ipv4"), rangeIn("ipv6")),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const overlap = rangesOverlap(a, b);
        expect(rangesOverlap(b, a)).toBe(overlap);
        expect(rangesOverlap(a, a)).toBe(true);
        // The latest first address is the one any common address would have to follow.
        const candidate = a.first > b.first ? a.first : b.first;
        const shared =
          a.family === b.family &&
          rangeContains(a, text(a.family, candidate)) &&
          rangeContains(b, text(b.family, candidate));
        expect(overlap).toBe(shared);
      }),
      RUNS,
    );
  });

  it("holds between a network and every subnet of it, which lies within it", () => {
    const subnet = network.chain((n) =>
      fc
        .tuple(fc.integer({ min: n.prefix, max: BITS[n.family] }), fc.bigInt({ min: 0n, max: n.size - 1n }))
        .map(([prefix, offset]) => {
          const size = 1n << BigInt(BITS[n.family] - prefix);
          return { outer: n, prefix, first: n.first + offset - (offset % size) };
        }),
    );
    fc.assert(
      fc.property(subnet, ({ outer, prefix, first }) => {
        const big = cidrRange(`${text(outer.family, outer.first)}/${outer.prefix}`)!;
        const small = cidrRange(`${text(outer.family, first)}/${prefix}`)!;
        expect(rangesOverlap(big, small)).toBe(true);
        expect(small.first >= big.first && small.last <= big.last).toBe(true);
      }),
      RUNS,
    );
  });
});

describe("isIpAddress", () => {
  it("accepts every address written out, and refuses it with a prefix, a zone, or an IPv4 part left out", () => {
    fc.assert(
      fc.property(
        family.chain((f) => fc.tuple(fc.constant(f), address(f), fc.boolean())),
        ([f, value, full]) => {
          const written = text(f, value, full);
          expect(isIpAddress(written)).toBe(true);
          expect(isIpAddress(`${written}/${BITS[f]}`)).toBe(false);
          if (f === "ipv6") expect(isIpAddress(`${written}%eth0`)).toBe(false);
          else expect(isIpAddress(written.split(".").slice(1).join("."))).toBe(false);
        },
      ),
      RUNS,
    );
  });
});
