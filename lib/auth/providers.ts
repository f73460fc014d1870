import "server-only";
import type { Provider } from "next-auth/providers";
import GitHub from "next-auth/providers/github";
import Google from "next-auth/providers/google";
import type { Env } from "../env";

/**
 * The account providers the environment configures, each on when all of its variables are set:
 * GitHub (AUTH_GITHUB_ID, AUTH_GITHUB_SECRET), Google (AUTH_GOOGLE_ID, AUTH_GOOGLE_SECRET) and any
 * OpenID Connect issuer (AUTH_OIDC_ISSUER, AUTH_OIDC_ID, AUTH_OIDC_SECRET; named AUTH_OIDC_NAME).
 * Each one's callback URL is <origin>/api/auth/callback/<id>: github, google, oidc.
 */
export function accountProviders(config: Env): Provider[] {
  const providers: Provider[] = [];
  if (config.AUTH_GITHUB_ID && config.AUTH_GITHUB_SECRET)
    providers.push(GitHub({ clientId: config.AUTH_GITHUB_ID, clientSecret: config.AUTH_GITHUB_SECRET }));
  if (config.AUTH_GOOGLE_ID && config.AUTH_GOOGLE_SECRET)
    providers.push(Google({ clientId: config.AUTH_GOOGLE_ID, clientSecret: config.AUTH_GOOGLE_SECRET }));
  if (config.AUTH_OIDC_ISSUER && config.AUTH_OIDC_ID && config.AUTH_OIDC_SECRET)
    providers.push({
      id: "oidc",
      name: config.AUTH_OIDC_NAME,
      type: "oidc",
      issuer: config.AUTH_OIDC_ISSUER,
      clientId: config.AUTH_OIDC_ID,
      clientSecret: config.AUTH_OIDC_SECRET,
    });
  return providers;
}
