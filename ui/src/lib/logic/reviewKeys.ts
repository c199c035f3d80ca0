// The review queue's keyboard: one key per action, no modifiers.

import type { Verdict } from '../backend/types';

/** What a key does in the review queue. */
export type ReviewAction =
  | { kind: 'decide'; verdict: Exclude<Verdict, 'none'> }
  | { kind: 'skip' }
  | { kind: 'undo' }
  | { kind: 'next' }
  | { kind: 'previous' };

/** The keys, for the on-screen legend: what is shown, what it does, the key it sends. */
export const REVIEW_KEYS: { label: string; what: string; key: string }[] = [
  { label: 'A', what: 'accept', key: 'a' },
  { label: 'R', what: 'reject', key: 'r' },
  { label: 'U', what: 'unsure', key: 'u' },
  { label: 'S', what: 'skip', key: 's' },
  { label: 'Z', what: 'undo', key: 'z' },
  { label: '→ / N', what: 'next', key: 'n' },
  { label: '← / P', what: 'previous', key: 'p' },
];

/** The action of a key press, or null (modifier held, or a key with no action). */
export function reviewAction(event: {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}): ReviewAction | null {
  if (event.altKey || event.metaKey) return null;
  const key = event.key.toLowerCase();
  // Ctrl+Z is undo too, as everywhere else.
  if (event.ctrlKey) return key === 'z' ? { kind: 'undo' } : null;
  switch (key) {
    case 'a':
      return { kind: 'decide', verdict: 'accept' };
    case 'r':
      return { kind: 'decide', verdict: 'reject' };
    case 'u':
      return { kind: 'decide', verdict: 'unsure' };
    case 's':
      return { kind: 'skip' };
    case 'z':
    case 'backspace':
      return { kind: 'undo' };
    case 'n':
    case 'arrowright':
      return { kind: 'next' };
    case 'p':
    case 'arrowleft':
      return { kind: 'previous' };
    default:
      return null;
  }
}

/** Input types that take no typing: a letter pressed on them is a shortcut. */
const NOT_TYPED = new Set([
  'checkbox',
  'radio',
  'button',
  'submit',
  'reset',
  'range',
  'color',
  'file',
]);

/** Whether a key pressed on `target` is typing (in a text field, a list box, a text area
 *  or editable content), so no shortcut may fire. */
export function isTyping(
  target: { tagName?: string; type?: string; isContentEditable?: boolean } | null,
): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  switch (target.tagName) {
    case 'TEXTAREA':
    case 'SELECT':
      return true;
    case 'INPUT':
      return !NOT_TYPED.has((target.type ?? 'text').toLowerCase());
    default:
      return false;
  }
}
