"use client";

import { useEffect, useState } from "react";
import { type AuthProvider, api, type SessionUser } from "@/lib/client/api";

interface Props {
  /** Who is signed in (null: not known yet). */
  user: SessionUser | null;
  onSignOut: () => void;
}

/** Goes to `provider`'s sign-in, to come back to this page; rejects when it could not start. */
export async function goToSignIn(provider: string): Promise<void> {
  window.location.assign(await api.signInUrl(provider, window.location.href));
}

/** The sidebar's foot: "Sign in" with each configured provider, or the account and "Sign out". */
export function Account({ user, onSignOut }: Props) {
  const [providers, setProviders] = useState<AuthProvider[]>([]);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.accountProviders().then(setProviders, () => {});
  }, []);
  if (!user) return null;
  if (!user.guest)
    return (
      <section className="account" aria-label="Account">
        <p className="who">
          <span className="name">{user.name}</span>
          {user.email && user.email !== user.name ? <span className="email">{user.email}</span> : null}
        </p>
        <button
          type="button"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            onSignOut();
          }}
        >
          Sign out
        </button>
      </section>
    );
  if (providers.length === 0) return null;
  const signIn = (id: string) => {
    setBusy(true);
    goToSignIn(id).catch(() => setBusy(false));
  };
  return (
    <section className="account" aria-label="Account">
      <details>
        <summary>Sign in</summary>
        <ul>
          {providers.map((provider) => (
            <li key={provider.id}>
              <button type="button" disabled={busy} onClick={() => signIn(provider.id)}>
                Sign in with {provider.name}
              </button>
            </li>
          ))}
        </ul>
      </details>
      <p className="who guest">
        {user.signedOut ? "Not signed in." : `Signed in as ${user.name}; sign in to keep your chats across browsers.`}
      </p>
    </section>
  );
}
