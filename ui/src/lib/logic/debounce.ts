// Debounce with a leading edge: the first call after a quiet spell runs at once (a paste
// or the first keystroke answers without waiting), calls within `ms` of the previous one
// are coalesced into one trailing call with the latest arguments.

export function debounce<A extends unknown[]>(
  fn: (...args: A) => void,
  ms: number,
): ((...args: A) => void) & { cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: A | null = null;
  const quiet = () => {
    timer = null;
    if (pending) {
      const args = pending;
      pending = null;
      fn(...args);
      timer = setTimeout(quiet, ms);
    }
  };
  const wrapped = (...args: A) => {
    if (timer === null) {
      fn(...args);
      timer = setTimeout(quiet, ms);
    } else {
      pending = args;
    }
  };
  wrapped.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    pending = null;
  };
  return wrapped;
}
