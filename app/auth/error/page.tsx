import type { Metadata } from "next";

// Where Auth.js sends a browser whose sign-in failed (`pages.error` in lib/auth/auth-js.ts; its own
// /api/auth/error redirects here): a page a person can read, where the API would answer JSON.
// Rendered per request like every page (the root layout), with proxy.ts's nonce policy.

export const metadata: Metadata = { title: "Sign-in failed · Backchannel" };

/** Auth.js's error codes (the `error` query) in words; any other code gets the general sentence. */
const MESSAGES: Record<string, string> = {
  AccessDenied: "The sign-in was declined.",
  OAuthCallbackError: "The provider did not finish the sign-in: it was cancelled, or it failed on their side.",
  OAuthAccountNotLinked: "That account is already linked to another sign-in.",
  Verification: "The sign-in link is no longer valid.",
  MissingCSRF: "The sign-in form had expired.",
  Configuration: "Signing in is not set up correctly on this server.",
};

export default async function AuthErrorPage({
  searchParams,
}: {
  searchParams: Promise<{ error?: string | string[] }>;
}) {
  const { error } = await searchParams;
  // Only a code it knows is shown back, and only as its sentence: nothing of the query is echoed.
  const known = typeof error === "string" && Object.hasOwn(MESSAGES, error) ? error : null;
  const message = known ? MESSAGES[known] : "Signing in did not work.";
  return (
    <main style={{ maxWidth: "32rem", margin: "4rem auto", padding: "0 1rem", lineHeight: 1.5 }}>
      <h1>Sign-in failed</h1>
      <p data-auth-error={known ?? undefined}>{message} Please try again.</p>
      <p>
        {/* A plain link: the chat page starts a sign-in of its own where needed. */}
        <a href="/">Back to Backchannel</a>
      </p>
    </main>
  );
}
