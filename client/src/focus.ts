// Where the keyboard goes when a view appears in place of another, and Escape for what can be closed.
import type { RefObject } from 'preact';
import { useEffect } from 'preact/hooks';

/**
 * Focuses `target` once it is on the page, unless the user has put the keyboard somewhere else already.
 * `autofocus` is not enough: a browser honours it once per page load, not when a view replaces another
 * (the room after the nickname form, the next room), and the focused element of the old view is gone.
 */
export function useFocusOnMount(target: RefObject<HTMLElement | null>): void {
  useEffect(() => {
    const focused = document.activeElement;
    if (focused === null || focused === document.body) target.current?.focus();
  }, []);
}

/** Calls `onEscape` when Escape is pressed anywhere on the page, while `active` (a drawer, a menu, a form that can be left). */
export function useEscape(onEscape: (() => void) | undefined, active = true): void {
  useEffect(() => {
    if (!active || !onEscape) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onEscape();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onEscape, active]);
}
