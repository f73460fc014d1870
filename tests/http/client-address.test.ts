import { describe, expect, it } from "vitest";
import { clientAddress } from "../../lib/http/client-address";

describe("the client address", () => {
  it("is the connection's peer unless a proxy is trusted", () => {
    expect(clientAddress({ forwardedFor: "198.51.100.7", socketAddress: "127.0.0.1", trustProxy: false })).toBe(
      "127.0.0.1",
    );
    expect(clientAddress({ forwardedFor: "198.51.100.7, 10.0.0.1", socketAddress: "10.0.0.2", trustProxy: true })).toBe(
      "198.51.100.7",
    );
  });

  it("falls back to the peer when the trusted header is missing or not an address", () => {
    expect(clientAddress({ forwardedFor: null, socketAddress: "10.0.0.2", trustProxy: true })).toBe("10.0.0.2");
    expect(clientAddress({ forwardedFor: "unknown, x", socketAddress: "10.0.0.2", trustProxy: true })).toBe("10.0.0.2");
    expect(clientAddress({ forwardedFor: null, socketAddress: undefined, trustProxy: false })).toBe("unknown");
  });

  it("writes one address one way: ports dropped, mapped IPv4 as IPv4, IPv6 by its /64", () => {
    const trusted = (forwardedFor: string) => clientAddress({ forwardedFor, socketAddress: null, trustProxy: true });
    expect(trusted("198.51.100.7:5123")).toBe("198.51.100.7");
    expect(trusted("[2001:db8::1]:443")).toBe("2001:db8:0:0::/64");
    expect(trusted("2001:db8:0:0:ffff::2")).toBe("2001:db8:0:0::/64");
    expect(trusted("2001:DB8:0:1::2")).toBe("2001:db8:0:1::/64");
    expect(clientAddress({ forwardedFor: null, socketAddress: "::ffff:127.0.0.1", trustProxy: false })).toBe(
      "127.0.0.1",
    );
  });
});
