"use client";

import { useCallback, useEffect, useRef, useState } from "react";

/**
 * The sidebar as a phone's menu: open and closed, closed by Escape (focus goes back to its
 * button, so the keyboard is not left on a hidden link). The CSS shows it as a menu only on a
 * narrow screen; on a wide one it is always there and this state is ignored.
 */
export function useMenu() {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const close = useCallback(() => setOpen(false), []);
  const toggle = useCallback(() => setOpen((was) => !was), []);

  useEffect(() => {
    if (!open) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      setOpen(false);
      buttonRef.current?.focus();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [open]);

  return { open, close, toggle, buttonRef };
}
