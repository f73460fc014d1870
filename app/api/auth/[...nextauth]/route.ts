// GET|POST /api/auth/* — Auth.js (session, sign-out, provider callbacks).
import { handlers } from "@/lib/auth";

export const { GET, POST } = handlers;
