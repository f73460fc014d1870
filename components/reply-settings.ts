"use client";

import { createContext } from "react";

/**
 * How many attempts a reply gets (the deployment's MAX_ATTEMPTS, read by the chat layout at
 * request time), so a retry can say "2 of 4". Null where it is unknown: the notice then says less.
 */
export const MaxAttemptsContext = createContext<number | null>(null);
