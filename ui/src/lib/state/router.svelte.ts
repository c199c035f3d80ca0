// The current hash route as reactive state.

import { parseHash, type Route } from '../logic/router';

class RouterState {
  route = $state<Route>(parseHash(typeof location === 'undefined' ? '' : location.hash));
}

export const router = new RouterState();

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    router.route = parseHash(location.hash);
  });
}

/** Goes to a hash link (`#/runs/3`). */
export function navigate(link: string): void {
  if (location.hash === link) router.route = parseHash(link);
  else location.hash = link;
}
