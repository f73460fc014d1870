import "server-only";
import { isIP } from "node:net";

/**
 * The address a request came from, for the limits per client (guest sign-ups, sends). Behind a
 * proxy that sets X-Forwarded-For (Vercel does, replacing what the client sent), TRUST_PROXY says
 * so and the first hop is the client. Otherwise the header is the client's to write, and only the
 * connection's own peer counts: routes that see the socket (pages/api) pass it; the App Router's
 * routes do not see it and get Next's own record of it, the header as Next filled it in when the
 * client sent none (see `fromHeaders`).
 */
export function clientAddress(input: {
  forwardedFor: string | null | undefined;
  socketAddress: string | null | undefined;
  trustProxy: boolean;
}): string {
  if (input.trustProxy) {
    const first = input.forwardedFor?.split(",")[0]?.trim();
    if (first && isIP(stripped(first))) return normalized(stripped(first));
  }
  return input.socketAddress ? normalized(input.socketAddress) : "unknown";
}

/** `[::1]:3000` and `1.2.3.4:5678` as proxies may write them, as plain addresses. */
function stripped(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed?.[1]) return bracketed[1];
  const v4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return v4WithPort?.[1] ?? hop;
}

/** One key per client: IPv4 mapped into IPv6 as IPv4, and an IPv6 client by its /64 (one host's share). */
function normalized(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (isIP(address) === 6) return `${expand(address).slice(0, 4).join(":")}::/64`;
  return address;
}

function expand(address: string): string[] {
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = address.includes("::") ? 8 - left.length - right.length : 0;
  return [...left, ...Array(missing).fill("0"), ...right].map((part) => part.replace(/^0+(?=.)/, ""));
}

/** clientAddress for an App Router route, which sees headers only. */
export function addressOfRequest(request: Request, trustProxy: boolean): string {
  const forwardedFor = request.headers.get("x-forwarded-for");
  // Next writes the connection's peer into X-Forwarded-For when the request came without one.
  return clientAddress({ forwardedFor, socketAddress: forwardedFor?.split(",").at(-1)?.trim(), trustProxy });
}
