// The review queue's keyboard: one key per action, no modifiers. The keys can be rebound
// (stored with the data directory's review settings); the arrows, Backspace and Ctrl+Z
// always work too.

import type { Verdict } from '../backend/types';

/** What a key does in the review queue. */
export type ReviewAction =
  | { kind: 'decide'; verdict: Exclude<Verdict, 'none'> }
  | { kind: 'skip' }
  | { kind: 'undo' }
  | { kind: 'next' }
  | { kind: 'previous' };

/** The actions that have a key, in the legend's order. */
export const ACTIONS = ['accept', 'reject', 'unsure', 'skip', 'undo', 'next', 'previous'] as const;
export type ActionName = (typeof ACTIONS)[number];

/** The keys out of the box (the backend's `REVIEW_ACTIONS` has the same). */
export const DEFAULT_KEYS: Record<ActionName, string> = {
  accept: 'a',
  reject: 'r',
  unsure: 'u',
  skip: 's',
  undo: 'z',
  next: 'n',
  previous: 'p',
};

/** Keys that always do the same, whatever is rebound. */
const FIXED: Record<string, ActionName> = {
  arrowright: 'next',
  arrowleft: 'previous',
  backspace: 'undo',
};

/** The key of each action: the defaults with `overrides` (action → key) on top. */
export function keyBindings(
  overrides: Record<string, string | undefined> = {},
): Record<ActionName, string> {
  const keys = { ...DEFAULT_KEYS };
  for (const action of ACTIONS) {
    const key = overrides[action];
    if (key) keys[action] = key.toLowerCase();
  }
  return keys;
}

/** The legend: what is shown, what it does, the key it sends. */
export function legend(
  keys: Record<ActionName, string>,
): { label: string; what: ActionName; key: string }[] {
  return ACTIONS.map((what) => {
    const label = keys[what].toUpperCase();
    const arrow = what === 'next' ? '→ / ' : what === 'previous' ? '← / ' : '';
    return { label: `${arrow}${label}`, what, key: keys[what] };
  });
}

function actionOf(name: ActionName): ReviewAction {
  switch (name) {
    case 'accept':
    case 'reject':
    case 'unsure':
      return { kind: 'decide', verdict: name };
    default:
      return { kind: name };
  }
}

/** The action of a key press under `keys`, or null (modifier held, or a key with no
 *  action). */
export function reviewAction(
  event: { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean },
  keys: Record<ActionName, string> = DEFAULT_KEYS,
): ReviewAction | null {
  if (event.altKey || event.metaKey) return null;
  const key = event.key.toLowerCase();
  // Ctrl+Z is undo too, as everywhere else.
  if (event.ctrlKey) return key === 'z' ? { kind: 'undo' } : null;
  const bound = ACTIONS.find((action) => keys[action] === key) ?? FIXED[key];
  return bound ? actionOf(bound) : null;
}

/** Why `key` cannot be the key of `action` under `keys` (null: it can). */
export function bindingProblem(
  keys: Record<ActionName, string>,
  action: ActionName,
  key: string,
): string | null {
  const k = key.toLowerCase();
  if ([...k].length !== 1 || k === ' ' || k === '?')
    return `"${key}" is not a key that can be bound`;
  const taken = ACTIONS.find((other) => other !== action && keys[other] === k);
  return taken ? `"${k.toUpperCase()}" is already the key for ${taken}` : null;
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
