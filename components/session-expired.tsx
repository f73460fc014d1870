"use client";

import { useEffect, useState } from "react";
import { type AuthProvider, api } from "@/lib/client/api";
import { goToSignIn } from "./account";

interface Props {
  /** The session that ended was a guest's (its chats cannot come back); else an account's. */
  guest: boolean;
  /** Starts over as a new guest (guests only). */
  onNewGuest: () => void;
}

/**
 * Says the session has ended (an API call or the stream answered 401) and offers to sign in again.
 * Nothing is dropped meanwhile: the draft stays in the composer (and in sessionStorage, across the
 * trip to the provider), sends wait in the outbox; after the sign-in the page comes back, the sends
 * go out and every running reply resumes from its cursor.
 */
export function SessionExpired({ guest, onNewGuest }: Props) {
  const [providers, setProviders] = useState<AuthProvider[]>([]);
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    api.accountProviders().then(setProviders, () => {});
  }, []);
  // Told at once (role="alert"); the focus stays where it is: the person may be typing.
  const signIn = (id: string) => {
    setBusy(true);
    setFailed(false);
    goToSignIn(id).catch(() => {
      setBusy(false);
      setFailed(true);
    });
  };
  return (
    <div className="notice session-expired" role="alert" aria-labelledby="session-expired-title">
      <div>
        <p id="session-expired-title">
          <strong>{guest ? "Your guest session has ended." : "Your session has expired."}</strong>
        </p>
        <p>
          {guest
            ? "Its chats can no longer be opened here. What you were writing is kept."
            : "Sign in again to carry on: your draft and the messages waiting to be sent are kept."}
        </p>
        {failed ? <p>Signing in could not start. Try again.</p> : null}
      </div>
      <div className="session-expired-actions">
        {providers.map((provider) => (
          <button key={provider.id} type="button" disabled={busy} onClick={() => signIn(provider.id)}>
            Sign in with {provider.name}
          </button>
        ))}
        {guest ? (
          <button type="button" disabled={busy} onClick={onNewGuest}>
            Continue as a new guest
          </button>
        ) : null}
      </div>
    </div>
  );
}
