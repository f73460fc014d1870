"use client";

import { useCallback, useEffect, useRef, useState } from "react";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])';

/** What Tab can reach while the menu is open: the menu's own controls, then its button (to close it). */
function focusOrder(menu: HTMLElement, button: HTMLElement): HTMLElement[] {
  const inside = [...menu.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
  return [...inside, button];
}

/**
 * The sidebar as a phone's menu: open and closed, closed by Escape. While it is open the keyboard
 * stays in it: focus moves to its first control, Tab cycles through it and its ☰ button, and on
 * close focus goes back to the button (so it is not left on a link that just hid). The CSS shows
 * it as a menu only on a narrow screen; on a wide one it is always there and this state is ignored.
 */
export function useMenu(menuId = "sidebar") {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const close = useCallback(() => setOpen(false), []);
  const toggle = useCallback(() => setOpen((was) => !was), []);

  useEffect(() => {
    const button = buttonRef.current;
    const menu = document.getElementById(menuId);
    // Only where the menu is one: its button shows (a narrow screen).
    if (!open || !button || !menu || button.getClientRects().length === 0) return;
    focusOrder(menu, button)[0]?.focus();
    const onKeyDown = (event: KeyboardEvent) => {
      // A dialog opened over the page handles its own keys.
      if (event.target instanceof Element && event.target.closest("dialog")) return;
      if (event.key === "Escape") {
        setOpen(false);
        return;
      }
      if (event.key !== "Tab") return;
      const order = focusOrder(menu, button);
      const at = order.indexOf(document.activeElement as HTMLElement);
      const next = at < 0 ? 0 : (at + (event.shiftKey ? -1 : 1) + order.length) % order.length;
      event.preventDefault();
      order[next]?.focus();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => {
      document.removeEventListener("keydown", onKeyDown);
      // Closed (Escape, the backdrop, a choice, ☰): focus left in the hidden menu (or dropped to
      // the page when its link hid) goes back to ☰. A choice that focuses something else wins,
      // since its effect runs after this one.
      const active = document.activeElement;
      if (!active || active === document.body || menu.contains(active)) button.focus();
    };
  }, [open, menuId]);

  return { open, close, toggle, buttonRef };
}
