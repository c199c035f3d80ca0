import { describe, expect, it } from 'vitest';
import { REVIEW_KEYS, reviewAction } from './reviewKeys';

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
    for (const k of REVIEW_KEYS) {
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
