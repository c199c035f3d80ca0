import { describe, expect, it } from 'vitest';
import {
  DEFAULT_KEYS,
  bindingProblem,
  isTyping,
  keyBindings,
  legend,
  reviewAction,
} from './reviewKeys';

describe('reviewAction', () => {
  it('maps each legend key to its action', () => {
    expect(reviewAction({ key: 'a' })).toEqual({ kind: 'decide', verdict: 'accept' });
    expect(reviewAction({ key: 'R' })).toEqual({ kind: 'decide', verdict: 'reject' });
    expect(reviewAction({ key: 'u' })).toEqual({ kind: 'decide', verdict: 'unsure' });
    expect(reviewAction({ key: 's' })).toEqual({ kind: 'skip' });
    expect(reviewAction({ key: 'z' })).toEqual({ kind: 'undo' });
    expect(reviewAction({ key: 'z', ctrlKey: true })).toEqual({ kind: 'undo' });
    expect(reviewAction({ key: 'ArrowRight' })).toEqual({ kind: 'next' });
    expect(reviewAction({ key: 'p' })).toEqual({ kind: 'previous' });
    // Each legend button's key does what the legend says.
    for (const k of legend(DEFAULT_KEYS)) {
      const action = reviewAction({ key: k.key })!;
      expect(action.kind === 'decide' ? action.verdict : action.kind).toBe(k.what);
    }
  });

  it('ignores other keys and modified presses', () => {
    expect(reviewAction({ key: 'x' })).toBeNull();
    expect(reviewAction({ key: 'a', ctrlKey: true })).toBeNull();
    expect(reviewAction({ key: 'a', metaKey: true })).toBeNull();
    expect(reviewAction({ key: 'r', altKey: true })).toBeNull();
  });
});

describe('rebound keys', () => {
  it('act under their new key, the old key does nothing, the arrows always work', () => {
    const keys = keyBindings({ accept: 'Y', next: 'j' });
    expect(keys.accept).toBe('y');
    expect(reviewAction({ key: 'y' }, keys)).toEqual({ kind: 'decide', verdict: 'accept' });
    expect(reviewAction({ key: 'a' }, keys)).toBeNull();
    expect(reviewAction({ key: 'j' }, keys)).toEqual({ kind: 'next' });
    expect(reviewAction({ key: 'ArrowRight' }, keys)).toEqual({ kind: 'next' });
    expect(legend(keys).find((k) => k.what === 'accept')?.label).toBe('Y');
    expect(legend(keys).find((k) => k.what === 'next')?.label).toBe('→ / J');
  });

  it('say why a key cannot be bound', () => {
    expect(bindingProblem(DEFAULT_KEYS, 'accept', 'y')).toBeNull();
    expect(bindingProblem(DEFAULT_KEYS, 'accept', 'a')).toBeNull();
    expect(bindingProblem(DEFAULT_KEYS, 'accept', 'R')).toBe('"R" is already the key for reject');
    expect(bindingProblem(DEFAULT_KEYS, 'accept', '?')).not.toBeNull();
    expect(bindingProblem(DEFAULT_KEYS, 'accept', 'Enter')).not.toBeNull();
  });
});

describe('isTyping', () => {
  it('is true in text fields, list boxes, text areas and editable content', () => {
    expect(isTyping({ tagName: 'INPUT', type: 'text' })).toBe(true);
    expect(isTyping({ tagName: 'INPUT', type: 'search' })).toBe(true);
    expect(isTyping({ tagName: 'INPUT' })).toBe(true);
    expect(isTyping({ tagName: 'TEXTAREA' })).toBe(true);
    expect(isTyping({ tagName: 'SELECT' })).toBe(true);
    expect(isTyping({ tagName: 'DIV', isContentEditable: true })).toBe(true);
  });

  it('is false on checkboxes, buttons and the page itself', () => {
    expect(isTyping({ tagName: 'INPUT', type: 'checkbox' })).toBe(false);
    expect(isTyping({ tagName: 'INPUT', type: 'RADIO' })).toBe(false);
    expect(isTyping({ tagName: 'BUTTON' })).toBe(false);
    expect(isTyping({ tagName: 'BODY' })).toBe(false);
    expect(isTyping(null)).toBe(false);
  });
});
